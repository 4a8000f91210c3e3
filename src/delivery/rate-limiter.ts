/**
 * A token bucket per subscription: on average `perSecond` deliveries start per second, and up to
 * `burst` at once after a quiet period. Pure: the caller passes the time (milliseconds). It runs
 * once per delivery, so every call is O(1) and allocates nothing.
 */

export interface RateLimitOptions {
  /** More than 0; fractions allowed (0.5 = one every two seconds). */
  perSecond: number;
  /** The bucket's size: an integer of at least 1. */
  burst: number;
}

// Credit is kept in thousandths of a token, so that one millisecond at `perSecond` earns exactly
// `perSecond` units: with whole-millisecond clocks and whole rates the arithmetic is exact, and
// rounding can never hand out a token that was not earned.
const TOKEN = 1000;

export class TokenBucket {
  private rate = 0;
  private capacity = 0;
  private credit = 0;
  // -Infinity: the first call finds the bucket full, whatever the clock's origin.
  private last = Number.NEGATIVE_INFINITY;

  constructor(options: RateLimitOptions) {
    this.configure(options);
    this.credit = this.capacity;
  }

  /** Takes new limits (the spec changed), keeping what is in the bucket up to the new size. */
  configure({ perSecond, burst }: RateLimitOptions): void {
    if (!(perSecond > 0 && Number.isFinite(perSecond))) {
      throw new RangeError(`perSecond must be a finite number more than 0, got ${perSecond}`);
    }
    if (!Number.isInteger(burst) || burst < 1) {
      throw new RangeError(`burst must be an integer of at least 1, got ${burst}`);
    }
    this.rate = perSecond;
    this.capacity = burst * TOKEN;
    this.credit = Math.min(this.credit, this.capacity);
  }

  /** Takes one token if there is one. */
  tryTake(now: number): boolean {
    this.refill(now);
    if (this.credit < TOKEN) return false;
    this.credit -= TOKEN;
    return true;
  }

  /** Milliseconds until tryTake can succeed; 0 when it can now. */
  msUntilNext(now: number): number {
    this.refill(now);
    const missing = TOKEN - this.credit;
    if (missing <= 0) return 0;
    let wait = Math.ceil(missing / this.rate);
    // Fractional rates are inexact in binary; never promise a token a millisecond too early.
    if (wait * this.rate < missing) wait++;
    return wait;
  }

  /** Whole tokens available at the last call's time. */
  get tokens(): number {
    return Math.floor(this.credit / TOKEN);
  }

  private refill(now: number): void {
    // A clock that steps back earns nothing, and must not earn the same interval twice later.
    if (now <= this.last) return;
    const earned = (now - this.last) * this.rate;
    this.credit = Math.min(this.capacity, this.credit + earned);
    this.last = now;
  }
}
