/**
 * A semaphore per subscription: at most `max` deliveries in flight to one endpoint, so a slow
 * receiver holds only its own slots. Waiters are served first come, first served. No I/O and no
 * timers; the only asynchrony is the promise that acquire() returns.
 */

interface Waiter {
  resolve: () => void;
  reject: (reason: Error) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  /** Settled already (served or aborted); left in the queue and skipped, to keep removal O(1). */
  done: boolean;
}

export class Semaphore {
  private limit: number;
  private used = 0;
  private readonly queue: Waiter[] = [];
  private head = 0;
  private live = 0;

  constructor(max: number) {
    this.limit = checkMax(max);
  }

  get max(): number {
    return this.limit;
  }

  get inFlight(): number {
    return this.used;
  }

  /** Callers waiting in acquire(). */
  get waiting(): number {
    return this.live;
  }

  /** Takes a slot if one is free and nobody is waiting (jumping the queue would starve waiters). */
  tryAcquire(): boolean {
    if (this.used >= this.limit || this.live > 0) return false;
    this.used++;
    return true;
  }

  /**
   * Resolves once a slot is taken for the caller. If `signal` aborts first, rejects with its reason
   * (wrapped in an Error if it is not one) and takes no slot.
   */
  acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    if (this.tryAcquire()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, signal, onAbort: undefined, done: false };
      if (signal) {
        waiter.onAbort = () => {
          if (waiter.done) return;
          waiter.done = true;
          this.live--;
          this.compact();
          reject(abortError(signal));
        };
        signal.addEventListener("abort", waiter.onAbort, { once: true });
      }
      this.queue.push(waiter);
      this.live++;
    });
  }

  /** Gives a slot back; the longest waiter, if any, gets it. */
  release(): void {
    if (this.used <= 0) throw new Error("Semaphore.release() without a matching acquire");
    this.used--;
    this.drain();
  }

  /**
   * Changes the limit (the spec changed). Growing serves waiters at once; shrinking takes no slot
   * away from deliveries in flight, it only hands out none until inFlight is below the new limit.
   */
  resize(max: number): void {
    this.limit = checkMax(max);
    this.drain();
  }

  private drain(): void {
    while (this.used < this.limit && this.live > 0) {
      const waiter = this.queue[this.head++];
      if (!waiter || waiter.done) continue;
      waiter.done = true;
      this.live--;
      this.used++;
      if (waiter.signal && waiter.onAbort) waiter.signal.removeEventListener("abort", waiter.onAbort);
      waiter.resolve();
    }
    this.compact();
  }

  private compact(): void {
    if (this.live === 0) {
      // Aborted waiters may remain; nobody live is behind them.
      this.queue.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
  }
}

function checkMax(max: number): number {
  if (!Number.isInteger(max) || max < 1)
    throw new RangeError(`max must be an integer of at least 1, got ${max}`);
  return max;
}

// Rejections are Errors, whatever the signal was aborted with (AbortSignal's default is one already).
function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new Error("acquire aborted", { cause: reason });
}
