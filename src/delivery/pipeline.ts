import type { ResolvedSubscription } from "../controller/resolve.js";
import type { IngestedEvent } from "../ingest/event.js";
import type { Logger } from "../observability/logger.js";
import { needsData, type FilterEvent, type Route, type RoutingTableHolder } from "../routing/index.js";
import type { OutcomeSink } from "../status/outcomes.js";
import { healthSignal, type BreakerChange, type Permit } from "./breaker.js";
import type { Notifier, SendResult, WebhookRequest } from "./dispatcher.js";
import { Lane } from "./lane.js";
import { classify, parseRetryAfter, retryDelayMs } from "./retry-policy.js";
import type { DeliveryTask, RetryStore } from "./task.js";

export interface PipelineMetrics {
  attempt(subscription: string, result: string, seconds: number): void;
  retryScheduled(subscription: string): void;
  deadLettered(subscription: string, reason: string): void;
  filterError(subscription: string): void;
  breaker(subscription: string, open: boolean): void;
}

export interface PipelineOptions {
  /** An event's task still waiting or in flight after this long is handed to durable retry state. */
  handoffMs: number;
  maxEventBytes: number;
  /** How often a running retry attempt tells JetStream it is still working (well under the ack wait). */
  keepAliveMs?: number;
  /** Whether a subscription still exists (routed or not); retries of deleted ones are dropped. */
  subscriptionExists?: (key: string) => boolean;
  /** In-memory tasks per lane before retry tasks are left in JetStream for later. */
  maxQueuedPerLane?: number;
  random?: () => number;
}

/** Dead-letter reasons, also the `Hookstream-Reason` header's prefix. */
export const DL = {
  tooLarge: "payload too large",
  notJson: "payload is not JSON",
  exhausted: "retries exhausted",
  rejected: "rejected by endpoint",
  disabled: "endpoint disabled",
} as const;

/** Counts an event's tasks; acks it when all are settled, naks it when any could not be. */
class EventTracker {
  private pending: number;
  private failed = false;
  constructor(
    count: number,
    private readonly done: (ok: boolean) => void,
  ) {
    this.pending = count;
    if (count === 0) done(true);
  }
  settle(ok: boolean): void {
    if (!ok) this.failed = true;
    if (--this.pending === 0) this.done(!this.failed);
  }
}

/**
 * The heart of hookstream: routes each event to its subscriptions, runs attempts in per-subscription
 * lanes, and turns every outcome into exactly one of: delivered, durably queued for a retry, or
 * dead-lettered. Only then is the event's share settled, so a crash at any moment loses nothing.
 */
export class DeliveryPipeline {
  private readonly lanes = new Map<string, Lane>();
  /** Deliveries that succeeded after their task was handed off, so the durable copy is skipped. */
  private readonly completed = new Set<string>();
  private readonly handedOff = new WeakSet<DeliveryTask>();
  private readonly handoffTimer: NodeJS.Timeout;
  private readonly random: () => number;
  private closed = false;
  private unsettled = 0;
  /** Attempts started and not yet finished with (including their retry write or dead letter). */
  private attemptsRunning = 0;
  private readonly debug: boolean;
  /** Each subscription's headers that do not change from one delivery to the next. */
  private readonly baseHeaders = new WeakMap<
    ResolvedSubscription,
    { pairs: string[]; contentType: boolean }
  >();

  constructor(
    private readonly table: RoutingTableHolder<ResolvedSubscription>,
    private readonly notifier: Notifier,
    private readonly store: RetryStore,
    private readonly outcomes: OutcomeSink,
    private readonly metrics: PipelineMetrics,
    private readonly log: Logger,
    private readonly opts: PipelineOptions,
    private readonly onDisabled: (key: string, message: string) => void = () => {},
  ) {
    this.random = opts.random ?? Math.random;
    this.debug = log.isLevelEnabled("debug");
    this.handoffTimer = setInterval(
      () => this.handOffSlowTasks(),
      Math.max(50, Math.min(1000, opts.handoffMs / 4)),
    );
    this.handoffTimer.unref();
  }

  /** Applies a new routing table: lanes follow their subscriptions' changes; removed ones go. */
  tableChanged(): void {
    const table = this.table.current();
    for (const [key, lane] of this.lanes) {
      const route = table.get(key);
      if (route) {
        const wasDisabled = lane.disabled;
        lane.update(route.target);
        if (wasDisabled && !lane.disabled) this.outcomes.endpointState(key, lane.endpointState);
      } else if (lane.queue.length === 0 && lane.inFlight.size === 0) {
        lane.close();
        this.lanes.delete(key);
      }
    }
  }

  /** Handles one event from the events stream; `done(true)` acks it, `done(false)` asks for redelivery. */
  onEvent(event: IngestedEvent, done: (ok: boolean) => void): void {
    if (this.closed) {
      // Shutting down: leave the event to JetStream's redelivery rather than start work we cannot finish.
      done(false);
      return;
    }
    const table = this.table.current();
    const candidates = table.match(event.subject);
    if (candidates.length === 0) {
      done(true);
      return;
    }
    const dead: { route: Route<ResolvedSubscription>; reason: string }[] = [];
    let routes: readonly Route<ResolvedSubscription>[] = candidates;
    let filterEvent: FilterEvent = {
      subject: event.subject,
      id: event.id,
      time: event.time,
      headers: event.headers,
    };
    if (event.payload.length > this.opts.maxEventBytes) {
      for (const route of candidates) {
        dead.push({
          route,
          reason: `${DL.tooLarge}: ${event.payload.length} bytes, the limit is ${this.opts.maxEventBytes}`,
        });
      }
      routes = [];
    } else if (needsData(candidates)) {
      const data = parseJson(event.payload);
      if (data === NOT_JSON) {
        routes = candidates.filter((r) => {
          if (!r.filter?.needsData) return true;
          dead.push({ route: r, reason: `${DL.notJson}, but spec.filter reads data` });
          return false;
        });
      } else {
        filterEvent = { ...filterEvent, data };
      }
    }
    const targets = table.filter(routes, filterEvent, (route, error) => {
      this.metrics.filterError(route.key);
      this.log.debug(
        { subscription: route.key, eventId: event.id, error },
        "filter error: treated as no match",
      );
    });
    const tracker = new EventTracker(targets.length + dead.length, done);
    const now = Date.now();
    for (const { route, reason } of dead) {
      const task = this.task(route.key, event, 1, now, (ok) => tracker.settle(ok), true);
      void this.deadLetter(route.target, task, reason, undefined, 0);
    }
    for (const route of targets) {
      this.lane(route.target).submit(this.task(route.key, event, 1, now, (ok) => tracker.settle(ok), true));
    }
  }

  /**
   * Handles a task from the retry stream. `ack` settles it; `nak(ms)` asks JetStream to redeliver it
   * later (not yet due, paused, or the lane is full); `working` extends its ack deadline.
   */
  onRetry(
    task: { subscription: string; event: IngestedEvent; attempt: number; due: number },
    ack: () => void,
    nak: (delayMs: number) => void,
    working: () => void,
  ): void {
    const route = this.table.current().get(task.subscription);
    const now = Date.now();
    if (!route) {
      if (this.opts.subscriptionExists?.(task.subscription)) {
        // Exists but is not routed right now (a Secret missing, say): keep the retry for when it is.
        nak(5000);
        return;
      }
      this.log.info(
        { subscription: task.subscription, eventId: task.event.id },
        "retry dropped: the subscription no longer exists",
      );
      ack();
      return;
    }
    if (this.completed.delete(`${task.event.id}|${task.subscription}`)) {
      ack();
      return;
    }
    if (task.due > now) {
      nak(task.due - now);
      return;
    }
    const lane = this.lane(route.target);
    if (lane.queue.length >= (this.opts.maxQueuedPerLane ?? 1000)) {
      nak(1000 + Math.floor(this.random() * 1000));
      return;
    }
    this.outcomes.retrying(task.subscription, -1);
    // Settling a retry task acks it, asks for a redelivery after a failure, or (deferred: paused,
    // circuit open) asks for a redelivery later; each way it leaves memory exactly once.
    let deferMs: number | undefined;
    const t = this.task(
      task.subscription,
      task.event,
      task.attempt,
      now,
      (ok) => {
        if (deferMs !== undefined) {
          this.outcomes.retrying(task.subscription, 1);
          nak(deferMs);
        } else if (ok) ack();
        else nak(1000);
      },
      false,
    );
    t.keepAlive = working;
    t.defer = (delayMs: number) => {
      deferMs = delayMs;
      t.settle(true);
    };
    lane.submit(t);
  }

  /** Lanes' endpoint states, for status and metrics. */
  laneStates(): Map<string, string> {
    return new Map([...this.lanes].map(([k, l]) => [k, l.disabled ? "Disabled" : l.endpointState]));
  }

  /** Tasks in memory and not yet settled; kept as a counter because ingest asks once per message. */
  get busy(): number {
    return this.unsettled;
  }

  /** Stops taking work; waits up to `timeoutMs` for attempts in flight, then hands the rest off. */
  async close(timeoutMs: number): Promise<void> {
    this.closed = true;
    clearInterval(this.handoffTimer);
    const deadline = Date.now() + timeoutMs;
    const pending: Promise<void>[] = [];
    for (const lane of this.lanes.values()) {
      for (const task of lane.queue.splice(0)) {
        pending.push(this.persistOrAbandon(task, task.attempt, Date.now(), "shutdown"));
      }
      lane.close();
    }
    await Promise.all(pending);
    while (this.attemptsRunning > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    // Attempts still running: make their retry durable now. A late success then means one
    // duplicate, with the same webhook-id, rather than a lost event.
    const late: Promise<void>[] = [];
    for (const lane of this.lanes.values()) {
      for (const task of lane.inFlight) {
        if (this.handedOff.has(task)) continue;
        this.handedOff.add(task);
        late.push(
          this.persistOrAbandon(task, task.attempt + 1, Date.now(), "shutdown: attempt still in flight"),
        );
      }
    }
    await Promise.all(late);
  }

  private task(
    subscription: string,
    event: IngestedEvent,
    attempt: number,
    now: number,
    settle: (ok: boolean) => void,
    fromEventStream: boolean,
  ): DeliveryTask {
    let settled = false;
    this.unsettled++;
    const settleWith = (ok: boolean) => {
      if (settled) return;
      settled = true;
      this.unsettled--;
      settle(ok);
    };
    return {
      subscription,
      event,
      attempt,
      due: now,
      queuedAt: now,
      fromEventStream,
      settle: settleWith,
    };
  }

  private lane(sub: ResolvedSubscription): Lane {
    let lane = this.lanes.get(sub.key);
    if (!lane) {
      lane = new Lane(sub, {
        start: (l, task, permit) => this.start(l, task, permit),
        defer: (_lane, task, delayMs, reason) => void this.deferTask(task, delayMs, reason),
        reject: (l, task, reason) =>
          void this.deadLetter(l.sub, task, `${DL.disabled}: ${reason}`, 410, task.attempt - 1),
        breakerChanged: (l, change) => this.breakerChanged(l, change),
      });
      this.lanes.set(sub.key, lane);
    } else if (lane.sub !== sub) {
      lane.update(sub);
    }
    return lane;
  }

  private breakerChanged(lane: Lane, change: BreakerChange): void {
    this.metrics.breaker(lane.key, change.to !== "closed");
    if (!lane.disabled) this.outcomes.endpointState(lane.key, change.endpointState);
    const level = change.to === "open" ? "warn" : "info";
    this.log[level](
      { subscription: lane.key, from: change.from, to: change.to },
      "circuit breaker changed state",
    );
  }

  private async deferTask(task: DeliveryTask, delayMs: number, reason: string): Promise<void> {
    if (task.defer) {
      task.defer(delayMs);
      return;
    }
    await this.persistOrAbandon(task, task.attempt, Date.now() + delayMs, reason);
  }

  /** Writes the task's next state to the retry stream, then settles its source; on failure asks for redelivery. */
  private async persistOrAbandon(
    task: DeliveryTask,
    attempt: number,
    due: number,
    reason: string,
  ): Promise<void> {
    if (task.defer && !task.fromEventStream && attempt === task.attempt) {
      task.defer(Math.max(0, due - Date.now()));
      return;
    }
    try {
      await this.store.persist({ ...task, attempt, due }, reason);
      this.outcomes.retrying(task.subscription, 1);
      this.metrics.retryScheduled(task.subscription);
      task.settle(true);
    } catch (err) {
      this.log.error(
        { subscription: task.subscription, eventId: task.event.id, err: (err as Error).message },
        "could not persist retry state; the event will be redelivered by JetStream",
      );
      task.settle(false);
    }
  }

  private handOffSlowTasks(): void {
    const now = Date.now();
    for (const lane of this.lanes.values()) {
      // Waiting tasks: hand them off untried.
      while (lane.queue.length > 0) {
        const head = lane.queue[0]!;
        if (!head.fromEventStream || now - head.queuedAt < this.opts.handoffMs) break;
        lane.queue.shift();
        void this.persistOrAbandon(head, head.attempt, now, "slow endpoint: handed off while waiting");
      }
      // Attempts in flight too long: their retry is made durable now; if they succeed after all,
      // the durable copy is skipped (`completed`).
      for (const task of lane.inFlight) {
        if (!task.fromEventStream || this.handedOff.has(task) || now - task.queuedAt < this.opts.handoffMs)
          continue;
        this.handedOff.add(task);
        const delay =
          retryDelayMs(
            task.attempt,
            lane.sub.retryScheduleMs,
            lane.sub.spec.delivery.retry.jitter,
            this.random,
          ) ?? 0;
        void this.persistOrAbandon(
          task,
          task.attempt + 1,
          now + delay,
          "slow endpoint: handed off in flight",
        );
      }
    }
  }

  private start(lane: Lane, task: DeliveryTask, permit: Permit): void {
    this.attemptsRunning++;
    this.attempt(lane, task, permit).catch((err: unknown) => {
      this.log.error(
        { subscription: lane.key, eventId: task.event.id, err },
        "delivery attempt failed unexpectedly",
      );
      lane.finished(task);
    });
  }

  /** Flat name/value pairs: cheaper to build, to pass to a worker thread and for undici to read. */
  private headersFor(sub: ResolvedSubscription, event: IngestedEvent, seconds: number): string[] {
    let base = this.baseHeaders.get(sub);
    if (!base) {
      // A custom user-agent or content-type from the spec replaces ours.
      const custom = Object.entries(sub.spec.endpoint.headers ?? {});
      const has = (name: string) => custom.some(([k]) => k.toLowerCase() === name);
      const pairs = custom.flat();
      if (!has("user-agent")) pairs.push("user-agent", "hookstream");
      pairs.push("hookstream-subscription", sub.key);
      if (sub.authorization) pairs.push("authorization", sub.authorization);
      base = { pairs, contentType: !has("content-type") };
      this.baseHeaders.set(sub, base);
    }
    const headers = base.pairs.slice();
    if (base.contentType) headers.push("content-type", event.headers["content-type"] ?? "application/json");
    headers.push(
      "hookstream-subject",
      event.subject,
      "webhook-id",
      event.id,
      "webhook-timestamp",
      String(seconds),
    );
    return headers;
  }

  private async attempt(lane: Lane, task: DeliveryTask, permit: Permit): Promise<void> {
    try {
      await this.attemptOnce(lane, task, permit);
    } finally {
      this.attemptsRunning--;
    }
  }

  private async attemptOnce(lane: Lane, task: DeliveryTask, permit: Permit): Promise<void> {
    const sub = lane.sub;
    const sentAt = new Date();
    const seconds = Math.floor(sentAt.getTime() / 1000);
    const request: WebhookRequest = {
      url: sub.spec.endpoint.url,
      headers: this.headersFor(sub, task.event, seconds),
      body: task.event.payload,
      timeoutMs: sub.timeoutMs,
    };
    if (sub.tls) request.tls = sub.tls;
    if (sub.signing) {
      request.sign = { keys: sub.signing.activeKeys(sentAt), id: task.event.id, timestampSeconds: seconds };
    }
    const keepAlive = task.keepAlive
      ? setInterval(() => task.keepAlive?.(), this.opts.keepAliveMs ?? 10_000)
      : undefined;
    let result: SendResult;
    try {
      result = await this.notifier.send(request);
    } finally {
      if (keepAlive) clearInterval(keepAlive);
    }
    const now = Date.now();
    lane.breaker.record(permit, healthSignal(result), now);
    lane.finished(task);
    const verdict = classify(result);
    const statusCode = result.kind === "response" ? result.status : undefined;
    const error = result.kind === "error" ? result.message : undefined;
    this.metrics.attempt(sub.key, verdict, result.durationMs / 1000);
    if (this.debug) {
      this.log.debug(
        {
          subscription: sub.key,
          eventId: task.event.id,
          attempt: task.attempt,
          statusCode,
          error,
          durationMs: Math.round(result.durationMs),
          verdict,
        },
        "delivery attempt",
      );
    }
    const record = (r: "delivered" | "retrying" | "failed" | "deadLettered") =>
      this.outcomes.attempt({
        subscription: sub.key,
        eventId: task.event.id,
        result: r,
        statusCode,
        error,
        durationMs: result.durationMs,
        time: now,
      });

    if (this.handedOff.has(task)) {
      // Its durable retry already exists; only a success changes anything (the retry is skipped).
      if (verdict === "success") {
        this.completed.add(`${task.event.id}|${task.subscription}`);
        // Bounded: if a durable copy is never seen again (another replica took it), forget the oldest.
        if (this.completed.size > 100_000) {
          for (const key of this.completed) {
            this.completed.delete(key);
            if (this.completed.size <= 90_000) break;
          }
        }
        record("delivered");
      } else record("retrying");
      return;
    }
    switch (verdict) {
      case "success":
        record("delivered");
        task.settle(true);
        return;
      case "disable": {
        lane.disabled = true;
        this.outcomes.endpointState(sub.key, "Disabled");
        const message = `the endpoint answered 410 Gone to event ${task.event.id}: delivery is disabled until the subscription changes`;
        this.log.warn({ subscription: sub.key }, message);
        this.onDisabled(sub.key, message);
        record("deadLettered");
        await this.deadLetter(sub, task, `${DL.disabled}: 410 Gone`, statusCode, task.attempt, false);
        return;
      }
      case "fail":
        record("deadLettered");
        await this.deadLetter(
          sub,
          task,
          `${DL.rejected}: ${statusCode !== undefined ? `HTTP ${statusCode}` : error}`,
          statusCode,
          task.attempt,
          false,
        );
        return;
      case "retry": {
        const retryAfter =
          result.kind === "response" && result.retryAfter
            ? parseRetryAfter(result.retryAfter, new Date(now))
            : undefined;
        const delay = retryDelayMs(
          task.attempt,
          sub.retryScheduleMs,
          sub.spec.delivery.retry.jitter,
          this.random,
          retryAfter,
        );
        if (delay === undefined) {
          record("deadLettered");
          const last = statusCode !== undefined ? `HTTP ${statusCode}` : error;
          await this.deadLetter(
            sub,
            task,
            `${DL.exhausted} after ${task.attempt} attempts; last: ${last}`,
            statusCode,
            task.attempt,
            false,
          );
          return;
        }
        record("retrying");
        await this.persistOrAbandon(task, task.attempt + 1, now + delay, "retry");
        return;
      }
    }
  }

  private async deadLetter(
    sub: ResolvedSubscription,
    task: DeliveryTask,
    reason: string,
    statusCode: number | undefined,
    attempts: number,
    countOutcome = true,
  ): Promise<void> {
    const subject = sub.spec.delivery.deadLetterSubject;
    try {
      const published = await this.store.deadLetter(task, subject, {
        reason,
        attempts,
        ...(statusCode !== undefined ? { statusCode } : {}),
      });
      if (countOutcome) {
        this.outcomes.attempt({
          subscription: sub.key,
          eventId: task.event.id,
          result: "deadLettered",
          durationMs: 0,
          time: Date.now(),
          error: reason,
        });
      }
      this.metrics.deadLettered(sub.key, reason.split(":")[0] ?? reason);
      this.log.warn(
        {
          subscription: sub.key,
          eventId: task.event.id,
          reason,
          deadLetterSubject: published ? subject : undefined,
        },
        published
          ? "event dead-lettered"
          : "event dead-lettered (no deadLetterSubject: counted and logged only)",
      );
      task.settle(true);
    } catch (err) {
      this.log.error(
        { subscription: sub.key, eventId: task.event.id, err: (err as Error).message },
        "could not publish dead letter; will be redelivered",
      );
      task.settle(false);
    }
  }
}

const NOT_JSON = Symbol("not JSON");
const decoder = new TextDecoder("utf-8", { fatal: true });

function parseJson(payload: Uint8Array): unknown {
  try {
    return JSON.parse(decoder.decode(payload)) as unknown;
  } catch {
    return NOT_JSON;
  }
}
