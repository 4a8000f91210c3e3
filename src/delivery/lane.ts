import type { ResolvedSubscription } from "../controller/resolve.js";
import { CircuitBreaker, endpointStateOf, type BreakerChange, type Permit } from "./breaker.js";
import { Semaphore } from "./concurrency.js";
import { TokenBucket } from "./rate-limiter.js";
import type { DeliveryTask } from "./task.js";

export interface LaneHooks {
  /** Starts one attempt; the lane has already taken a concurrency slot and a breaker permit. */
  start(lane: Lane, task: DeliveryTask, permit: Permit): void;
  /** Puts a task aside for later: durable retry state (event tasks) or a delayed redelivery (retry tasks). */
  defer(lane: Lane, task: DeliveryTask, delayMs: number, reason: string): void;
  /** Ends a task that can never be delivered (the endpoint is disabled). */
  reject(lane: Lane, task: DeliveryTask, reason: string): void;
  breakerChanged(lane: Lane, change: BreakerChange): void;
}

/**
 * One subscription's private delivery lane: its own queue, concurrency limit, rate limit and circuit
 * breaker, so one endpoint's trouble never slows another's. The lane decides *when* a task may run;
 * the pipeline decides what an attempt means.
 */
export class Lane {
  readonly queue: DeliveryTask[] = [];
  readonly inFlight = new Set<DeliveryTask>();
  readonly semaphore: Semaphore;
  bucket: TokenBucket | undefined;
  breaker: CircuitBreaker;
  /** Set by a 410 Gone; cleared when the subscription's generation changes. */
  disabled = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    public sub: ResolvedSubscription,
    private readonly hooks: LaneHooks,
  ) {
    this.semaphore = new Semaphore(sub.spec.delivery.maxInFlight);
    this.bucket = this.makeBucket(sub);
    this.breaker = this.makeBreaker(sub);
  }

  get key(): string {
    return this.sub.key;
  }

  get endpointState(): "Active" | "CircuitOpen" {
    return endpointStateOf(this.breaker.state);
  }

  /** Applies a changed subscription; a new generation re-enables a disabled endpoint. */
  update(sub: ResolvedSubscription): void {
    const old = this.sub;
    this.sub = sub;
    if (sub.generation !== old.generation) this.disabled = false;
    this.semaphore.resize(sub.spec.delivery.maxInFlight);
    const rl = sub.spec.delivery.rateLimit;
    if (!rl) this.bucket = undefined;
    else if (this.bucket) this.bucket.configure(rl);
    else this.bucket = this.makeBucket(sub);
    const cb = sub.spec.delivery.circuitBreaker;
    const ocb = old.spec.delivery.circuitBreaker;
    if (cb.failureThreshold !== ocb.failureThreshold || cb.probeInterval !== ocb.probeInterval) {
      this.breaker = this.makeBreaker(sub);
    }
    this.pump();
  }

  submit(task: DeliveryTask): void {
    this.queue.push(task);
    this.pump();
  }

  /** Starts what may start now; schedules itself when only time (rate limit) stands in the way. */
  pump(): void {
    while (this.queue.length > 0) {
      const now = Date.now();
      if (this.disabled) {
        this.hooks.reject(this, this.queue.shift()!, "the endpoint answered 410 Gone: delivery is disabled");
        continue;
      }
      if (this.sub.spec.paused) {
        this.hooks.defer(this, this.queue.shift()!, 10_000, "paused");
        continue;
      }
      if (this.semaphore.inFlight >= this.semaphore.max) return;
      const open = this.breaker.state !== "closed";
      if (open) {
        const next = this.breaker.nextProbeAt;
        if (next === undefined || now < next) {
          // Circuit open: nothing goes out until the probe; queued work waits durably meanwhile.
          const wait = Math.max(1000, (next ?? now + this.sub.probeIntervalMs) - now);
          this.hooks.defer(this, this.queue.shift()!, wait, "circuit open");
          continue;
        }
      }
      if (this.bucket && !this.bucket.tryTake(now)) {
        this.schedule(this.bucket.msUntilNext(now));
        return;
      }
      const permit = this.breaker.canAttempt(now);
      if (!permit) {
        this.hooks.defer(this, this.queue.shift()!, 1000, "circuit open");
        continue;
      }
      this.semaphore.tryAcquire();
      const task = this.queue.shift()!;
      this.inFlight.add(task);
      this.hooks.start(this, task, permit);
    }
  }

  /** Called by the pipeline when an attempt has finished. */
  finished(task: DeliveryTask): void {
    if (this.inFlight.delete(task)) this.semaphore.release();
    this.pump();
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
  }

  private schedule(ms: number): void {
    if (this.timer) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.pump();
      },
      Math.max(1, Math.ceil(ms)),
    );
  }

  private makeBucket(sub: ResolvedSubscription): TokenBucket | undefined {
    const rl = sub.spec.delivery.rateLimit;
    return rl ? new TokenBucket(rl) : undefined;
  }

  private makeBreaker(sub: ResolvedSubscription): CircuitBreaker {
    return new CircuitBreaker({
      failureThreshold: sub.spec.delivery.circuitBreaker.failureThreshold,
      probeIntervalMs: sub.probeIntervalMs,
      onChange: (change) => this.hooks.breakerChanged(this, change),
    });
  }
}
