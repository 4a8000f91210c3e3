import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** One registry per process (not prom-client's global), so tests can build several in one process. */
export function createRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "hookstream_" });
  return registry;
}

/** The operator's own metrics; names and help texts are the README's metrics reference. */
export class OperatorMetrics {
  readonly natsConnectionEvents: Counter<"type">;
  readonly reconciles: Counter<"result">;
  readonly routingTableRoutes: Gauge;
  readonly routingTableBuildSeconds: Histogram;
  readonly leader: Gauge;
  readonly watchRestarts: Gauge<"source" | "kind">;
  readonly statusWrites: Counter;
  readonly attempts: Counter<"subscription" | "result">;
  readonly attemptSeconds: Histogram<"result">;
  readonly retriesScheduled: Counter<"subscription">;
  readonly deadLetters: Counter<"subscription" | "reason">;
  readonly filterErrors: Counter<"subscription">;
  readonly breakerOpen: Gauge<"subscription">;
  readonly pulled: Counter<"kind">;
  readonly consumerPending: Gauge<"kind">;

  constructor(readonly registry: Registry) {
    const registers = [registry];
    this.natsConnectionEvents = new Counter({
      name: "hookstream_nats_connection_events_total",
      help: "NATS connection status changes (disconnect, reconnect, error, ...)",
      labelNames: ["type"],
      registers,
    });
    this.reconciles = new Counter({
      name: "hookstream_reconciles_total",
      help: "Subscription reconciles by result: ok (routed), rejected (Ready=False), error (retried)",
      labelNames: ["result"],
      registers,
    });
    this.routingTableRoutes = new Gauge({
      name: "hookstream_routing_table_routes",
      help: "Subscriptions in the current routing table",
      registers,
    });
    this.routingTableBuildSeconds = new Histogram({
      name: "hookstream_routing_table_build_seconds",
      help: "Time to build a routing-table snapshot",
      buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5],
      registers,
    });
    this.leader = new Gauge({
      name: "hookstream_leader",
      help: "1 while this replica holds the leader Lease",
      registers,
    });
    this.watchRestarts = new Gauge({
      name: "hookstream_watch_restarts",
      help: "Kubernetes list/watch restarts by source and kind (lists, watches, relistsAfterGone, relistsAfterSilence, errors)",
      labelNames: ["source", "kind"],
      registers,
    });
    this.statusWrites = new Counter({
      name: "hookstream_status_writes_total",
      help: "Status patches written to the API server",
      registers,
    });
    this.attempts = new Counter({
      name: "hookstream_delivery_attempts_total",
      help: "Delivery attempts by subscription and result: success, retry (will be retried), fail (not retryable), disable (410)",
      labelNames: ["subscription", "result"],
      registers,
    });
    this.attemptSeconds = new Histogram({
      name: "hookstream_delivery_attempt_duration_seconds",
      help: "Duration of delivery attempts (request sent to response drained)",
      labelNames: ["result"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 60],
      registers,
    });
    this.retriesScheduled = new Counter({
      name: "hookstream_retries_scheduled_total",
      help: "Deliveries written to the retry stream (failed attempts, slow endpoints, open circuits, pauses)",
      labelNames: ["subscription"],
      registers,
    });
    this.deadLetters = new Counter({
      name: "hookstream_dead_letters_total",
      help: "Events given up for a subscription, by reason",
      labelNames: ["subscription", "reason"],
      registers,
    });
    this.filterErrors = new Counter({
      name: "hookstream_filter_errors_total",
      help: "Filter evaluations that failed at run time (treated as no match)",
      labelNames: ["subscription"],
      registers,
    });
    this.breakerOpen = new Gauge({
      name: "hookstream_circuit_open",
      help: "1 while a subscription's circuit breaker is open or half-open",
      labelNames: ["subscription"],
      registers,
    });
    this.pulled = new Counter({
      name: "hookstream_messages_pulled_total",
      help: "Messages pulled from JetStream, by kind (event, retry)",
      labelNames: ["kind"],
      registers,
    });
    this.consumerPending = new Gauge({
      name: "hookstream_consumer_pending",
      help: "Consumer lag: messages not yet delivered or not yet acked, by kind (event, retry)",
      labelNames: ["kind"],
      registers,
    });
  }
}
