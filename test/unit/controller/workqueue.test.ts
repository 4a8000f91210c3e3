import { afterEach, describe, expect, it, jest } from "@jest/globals";
import fc from "fast-check";
import { WorkQueue } from "../../../src/controller/workqueue.js";

/** Lets already-resolved promise callbacks run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

/** Records what a pending get() resolved with, without awaiting it. */
function track(p: Promise<string | undefined>): { settled: boolean; value: string | undefined } {
  const state: { settled: boolean; value: string | undefined } = { settled: false, value: undefined };
  void p.then((v) => {
    state.settled = true;
    state.value = v;
  });
  return state;
}

describe("WorkQueue", () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it("holds a key once however often it is added while queued, in first-added order", async () => {
    const q = new WorkQueue();
    q.add("a");
    q.add("b");
    q.add("a");
    q.add("a");
    q.add("b");
    expect(q.length).toBe(2);
    expect(await q.get()).toBe("a");
    expect(await q.get()).toBe("b");
    expect(q.length).toBe(0);
  });

  it("is idle only when nothing waits and nothing is being processed", async () => {
    const q = new WorkQueue();
    expect(q.idle).toBe(true);
    q.add("a");
    expect(q.idle).toBe(false);
    expect(await q.get()).toBe("a");
    // Taken but not done: the queue is empty, yet the work is not finished.
    expect(q.length).toBe(0);
    expect(q.idle).toBe(false);
    q.done("a");
    expect(q.idle).toBe(true);
  });

  it("accepts a key again once it has been handed out", async () => {
    const q = new WorkQueue();
    q.add("a");
    expect(await q.get()).toBe("a");
    q.done("a");
    q.add("a");
    expect(q.length).toBe(1);
    expect(await q.get()).toBe("a");
  });

  it("never hands out a key that is being processed; one added meanwhile comes back after done()", async () => {
    const q = new WorkQueue();
    q.add("a");
    expect(await q.get()).toBe("a");
    // Added (twice) while processing: not queued, and a waiting worker must not receive it.
    q.add("a");
    q.add("a");
    expect(q.length).toBe(0);
    const next = track(q.get());
    await settle();
    expect(next.settled).toBe(false);
    q.done("a");
    await settle();
    expect(next).toEqual({ settled: true, value: "a" });
    // Handed out once, not once per add.
    q.done("a");
    expect(q.length).toBe(0);
  });

  it("queues a key added while processing when done() comes and no worker waits", async () => {
    const q = new WorkQueue();
    q.add("a");
    q.add("b");
    expect(await q.get()).toBe("a");
    q.add("a");
    expect(q.length).toBe(1); // only b
    q.done("a");
    expect(q.length).toBe(2);
    expect(await q.get()).toBe("b");
    expect(await q.get()).toBe("a");
  });

  it("does not requeue a key whose processing finished without a new add", async () => {
    const q = new WorkQueue();
    q.add("a");
    expect(await q.get()).toBe("a");
    q.done("a");
    expect(q.length).toBe(0);
  });

  it("hands a key straight to a waiting get()", async () => {
    const q = new WorkQueue();
    const first = track(q.get());
    const second = track(q.get());
    await settle();
    expect(first.settled).toBe(false);
    q.add("a");
    q.add("a"); // now processing: must not go to the second waiter
    q.add("b");
    await settle();
    expect(first).toEqual({ settled: true, value: "a" });
    expect(second).toEqual({ settled: true, value: "b" });
    expect(q.length).toBe(0);
  });

  it("addRateLimited waits base * 2^n per key, capped at maxDelayMs, and forget() starts over", () => {
    jest.useFakeTimers();
    const q = new WorkQueue({ baseDelayMs: 100, maxDelayMs: 1000 });
    const delays = [1, 2, 3, 4, 5, 6, 7].map(() => q.addRateLimited("a"));
    expect(delays).toEqual([100, 200, 400, 800, 1000, 1000, 1000]);
    // Per key: another key starts at the base delay.
    expect(q.addRateLimited("b")).toBe(100);
    q.forget("a");
    expect(q.addRateLimited("a")).toBe(100);
    expect(q.addRateLimited("a")).toBe(200);
  });

  it("uses 200 ms and 60 s as default base and cap", () => {
    jest.useFakeTimers();
    const q = new WorkQueue();
    const delays = Array.from({ length: 12 }, () => q.addRateLimited("a"));
    expect(delays.slice(0, 3)).toEqual([200, 400, 800]);
    expect(Math.max(...delays)).toBe(60_000);
    expect(delays.at(-1)).toBe(60_000);
  });

  it("addRateLimited adds the key only once its delay has passed", async () => {
    jest.useFakeTimers();
    const q = new WorkQueue({ baseDelayMs: 100, maxDelayMs: 1000 });
    q.addRateLimited("a");
    jest.advanceTimersByTime(99);
    expect(q.length).toBe(0);
    jest.advanceTimersByTime(1);
    expect(q.length).toBe(1);
    expect(await q.get()).toBe("a");
    q.done("a");
    q.addRateLimited("a"); // second failure: 200 ms
    jest.advanceTimersByTime(199);
    expect(q.length).toBe(0);
    jest.advanceTimersByTime(1);
    expect(q.length).toBe(1);
  });

  it("addAfter adds the key after the delay, and marks it dirty if it is being processed then", async () => {
    jest.useFakeTimers();
    const q = new WorkQueue();
    q.addAfter("a", 500);
    expect(q.length).toBe(0);
    jest.advanceTimersByTime(499);
    expect(q.length).toBe(0);
    jest.advanceTimersByTime(1);
    expect(q.length).toBe(1);
    expect(await q.get()).toBe("a");

    q.addAfter("a", 100);
    jest.advanceTimersByTime(100);
    expect(q.length).toBe(0); // still processing
    q.done("a");
    expect(q.length).toBe(1);
  });

  it("addAfter for a key already waiting for its timer adds it once", () => {
    jest.useFakeTimers();
    const q = new WorkQueue();
    q.addAfter("a", 100);
    q.addAfter("a", 100);
    jest.advanceTimersByTime(1000);
    expect(q.length).toBe(1);
    expect(jest.getTimerCount()).toBe(0);
  });

  it("shutDown resolves pending get() with undefined, ignores later adds and cancels timers", async () => {
    jest.useFakeTimers();
    const q = new WorkQueue();
    const a = track(q.get());
    const b = track(q.get());
    q.addAfter("later", 10);
    q.shutDown();
    await settle();
    expect(a).toEqual({ settled: true, value: undefined });
    expect(b).toEqual({ settled: true, value: undefined });
    q.add("x");
    q.addAfter("y", 1);
    q.addRateLimited("z");
    jest.advanceTimersByTime(10_000);
    expect(q.length).toBe(0);
    expect(await q.get()).toBeUndefined();
  });

  it("model: never hands out a key in processing, and every added key is eventually handed out", async () => {
    type Op = { op: "add"; key: string } | { op: "get" } | { op: "done"; pick: number };
    const keyArb = fc.constantFrom("a", "b", "c", "d");
    const opArb: fc.Arbitrary<Op> = fc.oneof(
      keyArb.map((key) => ({ op: "add" as const, key })),
      fc.constant({ op: "get" as const }),
      fc.nat(7).map((pick) => ({ op: "done" as const, pick })),
    );

    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { maxLength: 60 }), async (ops) => {
        const q = new WorkQueue();
        const held: string[] = []; // handed out, not yet done: what the model says is processing
        const owed = new Set<string>(); // added, not handed out since
        const violations: string[] = [];
        const receive = (key: string | undefined): void => {
          if (key === undefined) return;
          if (held.includes(key)) violations.push(`${key} handed out while processing`);
          held.push(key);
          owed.delete(key);
        };
        const done = (key: string): void => {
          held.splice(held.indexOf(key), 1);
          q.done(key);
        };

        for (const o of ops) {
          if (o.op === "add") {
            owed.add(o.key);
            q.add(o.key);
          } else if (o.op === "get") {
            void q.get().then(receive);
          } else if (held.length > 0) {
            done(held[o.pick % held.length]!);
          }
          await settle();
        }

        // Drain: finish everything held, then pull whatever is queued, until nothing moves.
        for (let rounds = 0; rounds < 100 && (held.length > 0 || q.length > 0); rounds++) {
          for (const key of [...held]) done(key);
          await settle();
          while (q.length > 0) {
            receive(await q.get());
          }
        }
        for (const key of [...held]) done(key);
        await settle();

        expect(violations).toEqual([]);
        expect([...owed]).toEqual([]);
        expect(q.length).toBe(0);
        q.shutDown();
      }),
      { numRuns: 300 },
    );
  });
});
