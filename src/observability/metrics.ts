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
  }
}
