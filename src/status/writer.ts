import type { Logger } from "../observability/logger.js";
import { setCondition, type Condition } from "./conditions.js";
import type { DeliverySummary, EndpointState } from "./outcomes.js";

/** What the controller decides about a subscription. */
export interface ReadyState {
  status: Condition["status"];
  reason: string;
  message: string;
  observedGeneration: number;
  /** Overrides the delivery side's endpoint state (Paused, or Disabled decided by configuration). */
  endpointState?: EndpointState;
  /** How many subject patterns are routed for it. */
  routes: number;
}

export interface SubscriptionStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  endpointState?: EndpointState;
  deliveries?: DeliverySummary["deliveries"];
  lastAttempt?: DeliverySummary["lastAttempt"];
  lastSuccessTime?: string;
  routes?: number;
}

/** Writes one subscription's status; "gone" when the object no longer exists. */
export type StatusPatcher = (key: string, status: SubscriptionStatus) => Promise<"ok" | "gone">;

interface Entry {
  ready?: ReadyState;
  conditions?: Condition[];
  lastWritten?: string;
  lastWriteAt: number;
  timer?: NodeJS.Timeout;
  writing?: Promise<void>;
}

export interface StatusWriterOptions {
  /** At most one write per subscription per this interval (default 5 s). */
  minIntervalMs?: number;
  now?: () => Date;
}

/**
 * Merges the controller's verdict and the delivery summary into each subscription's status, and writes
 * it with a merge patch at a bounded rate: at most once per subscription per interval, and only when
 * the result differs from what was last written. Only the leader writes (setEnabled).
 */
export class StatusWriter {
  private readonly entries = new Map<string, Entry>();
  private enabled = false;
  private readonly minIntervalMs: number;
  private readonly now: () => Date;

  constructor(
    private readonly patch: StatusPatcher,
    private readonly summaries: (key: string) => DeliverySummary | undefined,
    private readonly log: Logger,
    opts: StatusWriterOptions = {},
  ) {
    this.minIntervalMs = opts.minIntervalMs ?? 5000;
    this.now = opts.now ?? (() => new Date());
  }

  setEnabled(enabled: boolean): void {
    this.enabled = enabled;
    if (enabled) for (const key of this.entries.keys()) this.markDirty(key);
  }

  /** Seeds an entry with what the cluster already shows, so an unchanged status is not rewritten. */
  observe(key: string, current: SubscriptionStatus | undefined): void {
    const e = this.entry(key);
    if (e.lastWritten === undefined && current) {
      e.conditions = current.conditions;
      e.lastWritten = JSON.stringify(normalise(current));
    }
  }

  setReady(key: string, ready: ReadyState): void {
    const e = this.entry(key);
    e.ready = ready;
    this.markDirty(key);
  }

  forget(key: string): void {
    const e = this.entries.get(key);
    if (e?.timer) clearTimeout(e.timer);
    this.entries.delete(key);
  }

  /** Schedules a write for the earliest moment the rate limit allows. */
  markDirty(key: string): void {
    const e = this.entries.get(key);
    if (!e || !this.enabled || e.timer) return;
    const wait = Math.max(0, e.lastWriteAt + this.minIntervalMs - Date.now());
    e.timer = setTimeout(() => {
      e.timer = undefined;
      void this.writeAfterCurrent(key, e);
    }, wait);
    e.timer.unref();
  }

  /** Writes everything pending now (shutdown), ignoring the interval once. */
  async flush(): Promise<void> {
    const pending: Promise<void>[] = [];
    for (const [key, e] of this.entries) {
      if (e.timer) {
        clearTimeout(e.timer);
        e.timer = undefined;
        pending.push(this.writeAfterCurrent(key, e));
      } else if (e.writing) pending.push(e.writing);
    }
    await Promise.all(pending);
  }

  stop(): void {
    for (const e of this.entries.values()) if (e.timer) clearTimeout(e.timer);
  }

  /** The status as it would be written now (also used by tests). */
  render(key: string): SubscriptionStatus | undefined {
    const e = this.entries.get(key);
    if (!e?.ready) return undefined;
    const summary = this.summaries(key);
    let r = e.ready;
    if (r.status === "True" && summary?.endpointState === "Disabled") {
      r = {
        ...r,
        status: "False",
        reason: "EndpointDisabled",
        message: "the endpoint answered 410 Gone: delivery is disabled; edit the subscription to resume",
      };
    }
    e.conditions = setCondition(
      e.conditions,
      {
        type: "Ready",
        status: r.status,
        reason: r.reason,
        message: r.message,
        observedGeneration: r.observedGeneration,
      },
      this.now(),
    );
    const status: SubscriptionStatus = {
      observedGeneration: r.observedGeneration,
      conditions: e.conditions,
      routes: r.routes,
      deliveries: summary?.deliveries ?? { succeeded: 0, failed: 0, retrying: 0, deadLettered: 0 },
    };
    const state = r.endpointState ?? summary?.endpointState ?? (r.status === "True" ? "Active" : undefined);
    if (state) status.endpointState = state;
    if (summary?.lastAttempt) status.lastAttempt = summary.lastAttempt;
    if (summary?.lastSuccessTime) status.lastSuccessTime = summary.lastSuccessTime;
    return status;
  }

  private entry(key: string): Entry {
    let e = this.entries.get(key);
    if (!e) {
      e = { lastWriteAt: 0 };
      this.entries.set(key, e);
    }
    return e;
  }

  /** One patch per key at a time: a slow API server must neither pile up nor reorder a key's writes. */
  private writeAfterCurrent(key: string, e: Entry): Promise<void> {
    e.writing = (e.writing ?? Promise.resolve()).then(() => this.write(key, e));
    return e.writing;
  }

  private async write(key: string, e: Entry): Promise<void> {
    if (!this.enabled) return;
    const status = this.render(key);
    if (!status) return;
    const text = JSON.stringify(normalise(status));
    if (text === e.lastWritten) return;
    e.lastWriteAt = Date.now();
    try {
      const result = await this.patch(key, status);
      if (result === "gone") {
        this.forget(key);
        return;
      }
      e.lastWritten = text;
    } catch (err) {
      this.log.warn({ subscription: key, err: (err as Error).message }, "status write failed; will retry");
      this.markDirty(key);
    }
  }
}

/** Key order and lastTransitionTime-free comparison of statuses. */
function normalise(s: SubscriptionStatus): unknown {
  return {
    observedGeneration: s.observedGeneration,
    conditions: (s.conditions ?? []).map((c) => [
      c.type,
      c.status,
      c.reason,
      c.message,
      c.observedGeneration,
    ]),
    endpointState: s.endpointState,
    deliveries: s.deliveries && [
      s.deliveries.succeeded,
      s.deliveries.failed,
      s.deliveries.retrying,
      s.deliveries.deadLettered,
    ],
    lastAttempt: s.lastAttempt && [s.lastAttempt.time, s.lastAttempt.eventId, s.lastAttempt.statusCode],
    lastSuccessTime: s.lastSuccessTime,
    routes: s.routes,
  };
}
