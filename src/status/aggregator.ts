import type {
  AttemptOutcome,
  DeliveryCounts,
  DeliverySummary,
  EndpointState,
  OutcomeSink,
} from "./outcomes.js";

/**
 * Folds attempt outcomes into one summary per subscription, in memory and O(1) per outcome: the
 * status writer reads the summaries at its own bounded rate, so status never costs a write per delivery.
 * Counts continue from what the subscription's status already said (`seed`), so a restart or a new
 * leader does not reset them to zero.
 */
export class OutcomeAggregator implements OutcomeSink {
  private readonly summaries = new Map<string, DeliverySummary>();
  private readonly listeners: ((subscription: string) => void)[] = [];

  /** Called with a subscription key whenever its summary changed. */
  onChange(listener: (subscription: string) => void): void {
    this.listeners.push(listener);
  }

  seed(subscription: string, fromStatus: Partial<DeliverySummary> | undefined): void {
    if (this.summaries.has(subscription)) return;
    const d = fromStatus?.deliveries;
    const summary: DeliverySummary = {
      deliveries: {
        succeeded: count(d?.succeeded),
        failed: count(d?.failed),
        // The retry backlog is re-counted from the durable retry state by the delivery side.
        retrying: 0,
        deadLettered: count(d?.deadLettered),
      },
    };
    if (fromStatus?.lastAttempt) summary.lastAttempt = fromStatus.lastAttempt;
    if (fromStatus?.lastSuccessTime) summary.lastSuccessTime = fromStatus.lastSuccessTime;
    this.summaries.set(subscription, summary);
  }

  get(subscription: string): DeliverySummary | undefined {
    return this.summaries.get(subscription);
  }

  forget(subscription: string): void {
    this.summaries.delete(subscription);
  }

  attempt(o: AttemptOutcome): void {
    const s = this.ensure(o.subscription);
    const counts = s.deliveries;
    if (o.result === "delivered") counts.succeeded++;
    else counts.failed++;
    if (o.result === "deadLettered") counts.deadLettered++;
    const time = o.time.toISOString();
    s.lastAttempt = { time, eventId: o.eventId, durationMs: Math.round(o.durationMs) };
    if (o.statusCode !== undefined) s.lastAttempt.statusCode = o.statusCode;
    if (o.error !== undefined) s.lastAttempt.error = o.error.slice(0, 512);
    if (o.result === "delivered") s.lastSuccessTime = time;
    this.changed(o.subscription);
  }

  retrying(subscription: string, delta: number): void {
    const counts = this.ensure(subscription).deliveries;
    counts.retrying = Math.max(0, counts.retrying + delta);
    this.changed(subscription);
  }

  endpointState(subscription: string, state: EndpointState): void {
    const s = this.ensure(subscription);
    if (s.endpointState === state) return;
    s.endpointState = state;
    this.changed(subscription);
  }

  private ensure(subscription: string): DeliverySummary {
    let s = this.summaries.get(subscription);
    if (!s) {
      s = { deliveries: zeroCounts() };
      this.summaries.set(subscription, s);
    }
    return s;
  }

  private changed(subscription: string): void {
    for (const l of this.listeners) l(subscription);
  }
}

function zeroCounts(): DeliveryCounts {
  return { succeeded: 0, failed: 0, retrying: 0, deadLettered: 0 };
}

function count(n: unknown): number {
  return typeof n === "number" && Number.isFinite(n) && n >= 0 ? Math.floor(n) : 0;
}
