import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { Semaphore } from "../../../src/delivery/concurrency.js";

/** Lets promise callbacks that are already due run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("Semaphore", () => {
  it("hands out up to max slots without waiting", () => {
    const s = new Semaphore(2);
    expect(s.tryAcquire()).toBe(true);
    expect(s.tryAcquire()).toBe(true);
    expect(s.tryAcquire()).toBe(false);
    expect(s.inFlight).toBe(2);
    s.release();
    expect(s.inFlight).toBe(1);
    expect(s.tryAcquire()).toBe(true);
  });

  it("serves waiters first come, first served", async () => {
    const s = new Semaphore(1);
    await s.acquire();
    const order: number[] = [];
    const waiters = [1, 2, 3].map((n) => s.acquire().then(() => order.push(n)));
    expect(s.waiting).toBe(3);
    await settle();
    expect(order).toEqual([]);
    for (let i = 0; i < 3; i++) {
      s.release();
      await settle();
    }
    await Promise.all(waiters);
    expect(order).toEqual([1, 2, 3]);
    expect(s.inFlight).toBe(1);
    expect(s.waiting).toBe(0);
  });

  it("does not let tryAcquire jump the queue", async () => {
    const s = new Semaphore(1);
    expect(s.tryAcquire()).toBe(true);
    const waiter = s.acquire();
    s.release();
    // The freed slot went to the waiter, not to whoever calls tryAcquire next.
    expect(s.tryAcquire()).toBe(false);
    await waiter;
    expect(s.inFlight).toBe(1);
  });

  it("grows: waiters are served at once", async () => {
    const s = new Semaphore(1);
    s.tryAcquire();
    const served: number[] = [];
    const waiters = [1, 2].map((n) => s.acquire().then(() => served.push(n)));
    s.resize(3);
    await Promise.all(waiters);
    expect(served).toEqual([1, 2]);
    expect(s.inFlight).toBe(3);
  });

  it("shrinks: nothing in flight is taken away, nothing new starts until below the new max", async () => {
    const s = new Semaphore(3);
    for (let i = 0; i < 3; i++) s.tryAcquire();
    s.resize(1);
    expect(s.max).toBe(1);
    const waiter = s.acquire();
    let served = false;
    void waiter.then(() => (served = true));
    s.release();
    s.release();
    await settle();
    expect(served).toBe(false);
    expect(s.inFlight).toBe(1);
    s.release();
    await waiter;
    expect(served).toBe(true);
    expect(s.inFlight).toBe(1);
  });

  it("drops an aborted waiter without taking a slot", async () => {
    const s = new Semaphore(1);
    s.tryAcquire();
    const controller = new AbortController();
    const aborted = s.acquire(controller.signal);
    const next = s.acquire();
    controller.abort();
    await expect(aborted).rejects.toThrow();
    expect(s.waiting).toBe(1);
    s.release();
    await next;
    expect(s.inFlight).toBe(1);
    expect(s.waiting).toBe(0);
  });

  it("rejects at once with an already aborted signal, with an Error", async () => {
    const s = new Semaphore(1);
    const controller = new AbortController();
    controller.abort("shutting down");
    await expect(s.acquire(controller.signal)).rejects.toThrow("acquire aborted");
    expect(s.inFlight).toBe(0);
  });

  it("refuses a release without an acquire, and bad limits", () => {
    expect(() => new Semaphore(1).release()).toThrow(/without a matching acquire/);
    expect(() => new Semaphore(0)).toThrow(RangeError);
    expect(() => new Semaphore(2.5)).toThrow(RangeError);
    expect(() => new Semaphore(1).resize(0)).toThrow(RangeError);
  });

  type Op =
    | { kind: "acquire" }
    | { kind: "release" }
    | { kind: "abort"; pick: number }
    | { kind: "resize"; max: number };
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.constant<Op>({ kind: "acquire" }),
    fc.constant<Op>({ kind: "release" }),
    fc.record({ kind: fc.constant("abort" as const), pick: fc.nat() }),
    fc.record({ kind: fc.constant("resize" as const), max: fc.integer({ min: 1, max: 5 }) }),
  );

  it("never exceeds max (bar a shrink), serves in order, and loses no slot", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 5 }),
        fc.array(op, { maxLength: 80 }),
        async (initial, ops) => {
          const s = new Semaphore(initial);
          let holders = 0;
          let ticket = 0;
          const served: number[] = [];
          const pending: { id: number; controller: AbortController; settled: boolean }[] = [];
          for (const o of ops) {
            const before = s.inFlight;
            if (o.kind === "acquire") {
              const id = ticket++;
              const controller = new AbortController();
              const entry = { id, controller, settled: false };
              pending.push(entry);
              s.acquire(controller.signal).then(
                () => {
                  entry.settled = true;
                  holders++;
                  served.push(id);
                },
                () => {
                  entry.settled = true;
                },
              );
            } else if (o.kind === "release") {
              if (holders > 0) {
                holders--;
                s.release();
              }
            } else if (o.kind === "abort") {
              const live = pending.filter((p) => !p.settled);
              if (live.length > 0) live[o.pick % live.length]!.controller.abort();
            } else {
              s.resize(o.max);
            }
            await settle();
            expect(s.inFlight).toBe(holders);
            // Over the limit only after a shrink, and then no new slot is handed out.
            if (s.inFlight > s.max) expect(s.inFlight).toBeLessThanOrEqual(before);
            // A free slot never sits idle while someone waits.
            if (s.inFlight < s.max) expect(s.waiting).toBe(0);
            expect(s.waiting).toBe(pending.filter((p) => !p.settled).length);
          }
          expect(served).toEqual([...served].sort((a, b) => a - b));
        },
      ),
    );
  });
});
