import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { TokenBucket } from "../../../src/delivery/rate-limiter.js";

function takeAll(bucket: TokenBucket, now: number): number {
  let n = 0;
  while (bucket.tryTake(now)) n++;
  return n;
}

describe("TokenBucket", () => {
  it("allows a burst, then the steady rate", () => {
    const bucket = new TokenBucket({ perSecond: 10, burst: 5 });
    expect(takeAll(bucket, 1_000)).toBe(5);
    expect(bucket.msUntilNext(1_000)).toBe(100);
    expect(bucket.tryTake(1_099)).toBe(false);
    expect(bucket.tryTake(1_100)).toBe(true);
    expect(bucket.tryTake(1_100)).toBe(false);
    // One second later: ten more, not eleven.
    expect(takeAll(bucket, 2_100)).toBe(5);
    let taken = 0;
    for (let t = 2_101; t <= 3_100; t++) if (bucket.tryTake(t)) taken++;
    expect(taken).toBe(10);
  });

  it("refills to the burst and no further after a quiet period", () => {
    const bucket = new TokenBucket({ perSecond: 100, burst: 3 });
    expect(takeAll(bucket, 0)).toBe(3);
    expect(takeAll(bucket, 3_600_000)).toBe(3);
  });

  it("handles fractional rates", () => {
    const bucket = new TokenBucket({ perSecond: 0.5, burst: 1 });
    expect(bucket.tryTake(0)).toBe(true);
    expect(bucket.msUntilNext(0)).toBe(2_000);
    expect(bucket.tryTake(1_999)).toBe(false);
    expect(bucket.tryTake(2_000)).toBe(true);
  });

  it("earns nothing from a clock that steps back, and nothing twice", () => {
    const bucket = new TokenBucket({ perSecond: 1, burst: 1 });
    expect(bucket.tryTake(10_000)).toBe(true);
    expect(bucket.tryTake(5_000)).toBe(false);
    expect(bucket.tryTake(10_999)).toBe(false);
    expect(bucket.tryTake(11_000)).toBe(true);
  });

  it("takes new limits, keeping at most the new burst", () => {
    const bucket = new TokenBucket({ perSecond: 1, burst: 10 });
    bucket.configure({ perSecond: 1_000, burst: 2 });
    expect(takeAll(bucket, 0)).toBe(2);
    expect(bucket.msUntilNext(0)).toBe(1);
  });

  it("rejects bad limits", () => {
    expect(() => new TokenBucket({ perSecond: 0, burst: 1 })).toThrow(RangeError);
    expect(() => new TokenBucket({ perSecond: Number.NaN, burst: 1 })).toThrow(RangeError);
    expect(() => new TokenBucket({ perSecond: 1, burst: 0 })).toThrow(RangeError);
    expect(() => new TokenBucket({ perSecond: 1, burst: 1.5 })).toThrow(RangeError);
  });

  const limits = fc.record({
    perSecond: fc.oneof(fc.integer({ min: 1, max: 10_000 }), fc.constantFrom(0.25, 0.5, 1.5, 2.5)),
    burst: fc.integer({ min: 1, max: 50 }),
  });
  const steps = fc.array(
    fc.record({ dt: fc.integer({ min: 0, max: 3_000 }), tries: fc.integer({ min: 0, max: 20 }) }),
    {
      maxLength: 60,
    },
  );

  it("never hands out more than burst + rate × window over any window", () => {
    fc.assert(
      fc.property(limits, fc.integer({ min: -1e9, max: 1e9 }), steps, ({ perSecond, burst }, start, plan) => {
        const bucket = new TokenBucket({ perSecond, burst });
        const takes: number[] = [];
        let now = start;
        for (const { dt, tries } of plan) {
          now += dt;
          for (let i = 0; i < tries; i++) if (bucket.tryTake(now)) takes.push(now);
        }
        let worst: string | undefined;
        for (let i = 0; i < takes.length && worst === undefined; i++) {
          for (let j = i; j < takes.length; j++) {
            const window = takes[j]! - takes[i]!;
            if (j - i + 1 > burst + (perSecond * window) / 1000) {
              worst = `${j - i + 1} tokens in ${window} ms`;
              break;
            }
          }
        }
        expect(worst).toBeUndefined();
      }),
    );
  });

  it("msUntilNext is exact: a token is there after that wait, and not a millisecond before", () => {
    fc.assert(
      fc.property(limits, steps, ({ perSecond, burst }, plan) => {
        const bucket = new TokenBucket({ perSecond, burst });
        let now = 0;
        for (const { dt, tries } of plan) {
          now += dt;
          for (let i = 0; i < tries; i++) bucket.tryTake(now);
        }
        const wait = bucket.msUntilNext(now);
        if (wait > 0) {
          const probe = new TokenBucket({ perSecond, burst });
          // Replaying the same history into a copy checks "not before" without disturbing `bucket`.
          let t = 0;
          for (const { dt, tries } of plan) {
            t += dt;
            for (let i = 0; i < tries; i++) probe.tryTake(t);
          }
          expect(probe.tryTake(now + wait - 1)).toBe(false);
        }
        expect(bucket.tryTake(now + wait)).toBe(true);
      }),
    );
  });
});
