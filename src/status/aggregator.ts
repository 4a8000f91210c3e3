import type {
  AttemptOutcome,
  DeliveryCounts,
  DeliverySummary,
  EndpointState,
  OutcomeSink,
} from "./outcomes.js";

/** A subscription's summary, plus its newest attempt as plain fields, formatted only when read. */
interface Entry {
  summary: DeliverySummary;
  /** The fields below changed since the summary was last read. */
  fresh: boolean;
  time: number;
  eventId: string;
  statusCode: number | undefined;
  durationMs: number;
  error: string | undefined;
  /** Newest success (ms since the epoch); 0 when none since the last read. */
  successTime: number;
}

/**
 * Folds attempt outcomes into one summary per subscription, in memory and O(1) per outcome: the
 * status writer reads the summaries at its own bounded rate, so status never costs a write per
 * delivery. Per outcome only counters and a few fields change; the timestamps are formatted when
 * the writer reads (at most once per subscription per interval), not once per delivery.
 * Counts continue from what the subscription's status already said (`seed`), so a restart or a new
 * leader does not reset them to zero.
 */
export class OutcomeAggregator implements OutcomeSink {
  private readonly entries = new Map<string, Entry>();
  private readonly listeners: ((subscription: string) => void)[] = [];

  /** Called with a subscription key whenever its summary changed. */
  onChange(listener: (subscription: string) => void): void {
    this.listeners.push(listener);
  }

  seed(subscription: string, fromStatus: Partial<DeliverySummary> | undefined): void {
    if (this.entries.has(subscription)) return;
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
    this.entries.set(subscription, entry(summary));
  }

  get(subscription: string): DeliverySummary | undefined {
    const e = this.entries.get(subscription);
    if (!e) return undefined;
    if (e.fresh) {
      e.fresh = false;
      const last: DeliverySummary["lastAttempt"] = {
        time: new Date(e.time).toISOString(),
        eventId: e.eventId,
        durationMs: Math.round(e.durationMs),
      };
      if (e.statusCode !== undefined) last.statusCode = e.statusCode;
      if (e.error !== undefined) last.error = e.error.slice(0, 512);
      e.summary.lastAttempt = last;
      if (e.successTime !== 0) {
        e.summary.lastSuccessTime =
          e.successTime === e.time ? last.time : new Date(e.successTime).toISOString();
        e.successTime = 0;
      }
    }
    return e.summary;
  }

  forget(subscription: string): void {
    this.entries.delete(subscription);
  }

  attempt(o: AttemptOutcome): void {
    const e = this.ensure(o.subscription);
    const counts = e.summary.deliveries;
    if (o.result === "delivered") {
      counts.succeeded++;
      e.successTime = o.time;
    } else counts.failed++;
    if (o.result === "deadLettered") counts.deadLettered++;
    e.fresh = true;
    e.time = o.time;
    e.eventId = o.eventId;
    e.statusCode = o.statusCode;
    e.durationMs = o.durationMs;
    e.error = o.error;
    this.changed(o.subscription);
  }

  retrying(subscription: string, delta: number): void {
    const counts = this.ensure(subscription).summary.deliveries;
    counts.retrying = Math.max(0, counts.retrying + delta);
    this.changed(subscription);
  }

  endpointState(subscription: string, state: EndpointState): void {
    const s = this.ensure(subscription).summary;
    if (s.endpointState === state) return;
    s.endpointState = state;
    this.changed(subscription);
  }

  private ensure(subscription: string): Entry {
    let e = this.entries.get(subscription);
    if (!e) {
      e = entry({ deliveries: zeroCounts() });
      this.entries.set(subscription, e);
    }
    return e;
  }

  private changed(subscription: string): void {
    for (const l of this.listeners) l(subscription);
  }
}

function entry(summary: DeliverySummary): Entry {
  return {
    summary,
    fresh: false,
    time: 0,
    eventId: "",
    statusCode: undefined,
    durationMs: 0,
    error: undefined,
    successTime: 0,
  };
}

function zeroCounts(): DeliveryCounts {
  return { succeeded: 0, failed: 0, retrying: 0, deadLettered: 0 };
}

function count(n: unknown): number {
  return typeof n === "number" && Number.isFinite(n) && n >= 0 ? Math.floor(n) : 0;
}
