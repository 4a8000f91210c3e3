import { afterEach, beforeEach, describe, expect, it, jest } from "@jest/globals";
import fc from "fast-check";
import { createLogger } from "../../../src/observability/logger.js";
import type { DeliverySummary } from "../../../src/status/outcomes.js";
import {
  StatusWriter,
  type ReadyState,
  type StatusPatcher,
  type SubscriptionStatus,
} from "../../../src/status/writer.js";

const START = new Date("2025-06-01T12:00:00.000Z");
const MIN = 1000;
const KEY = "shop/orders";

interface Call {
  key: string;
  status: SubscriptionStatus;
  at: number;
}

type Result = "ok" | "gone" | Error;

/** A fake cluster: records every patch; results come from `results` (then "ok"), after `latencyMs`. */
function harness(opts: { latencyMs?: number } = {}) {
  const calls: Call[] = [];
  const results: Result[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const patch: StatusPatcher = async (key, status) => {
    calls.push({ key, status: structuredClone(status), at: Date.now() });
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      if (opts.latencyMs) await new Promise((r) => setTimeout(r, opts.latencyMs));
      const r = results.shift() ?? "ok";
      if (r instanceof Error) throw r;
      return r;
    } finally {
      inFlight--;
    }
  };
  const summaries = new Map<string, DeliverySummary>();
  const logLines: string[] = [];
  const log = createLogger("warn", { write: (line: string) => void logLines.push(line) });
  const writer = new StatusWriter(patch, (k) => summaries.get(k), log, { minIntervalMs: MIN });
  const callsFor = (key: string): Call[] => calls.filter((c) => c.key === key);
  return { writer, calls, callsFor, results, summaries, logLines, maxInFlight: () => maxInFlight };
}

function ready(over: Partial<ReadyState> = {}): ReadyState {
  return {
    status: "True",
    reason: "Delivering",
    message: "routing 2 subject patterns",
    observedGeneration: 2,
    routes: 2,
    ...over,
  };
}

const tick = (ms: number): Promise<void> => jest.advanceTimersByTimeAsync(ms);

beforeEach(() => {
  jest.useFakeTimers({ now: START });
});

afterEach(() => {
  jest.useRealTimers();
});

describe("StatusWriter: leadership", () => {
  it("writes nothing while disabled, and writes at once when enabled", async () => {
    const h = harness();
    h.writer.setReady(KEY, ready());
    h.writer.markDirty(KEY);
    expect(jest.getTimerCount()).toBe(0); // a follower schedules nothing
    await tick(60_000);
    expect(h.calls).toHaveLength(0);
    h.writer.setEnabled(true);
    await tick(0);
    expect(h.calls).toHaveLength(1);
    expect(h.calls[0]?.key).toBe(KEY);
    expect(h.calls[0]?.at).toBe(START.getTime() + 60_000);
  });

  it("writes the first status of a key immediately when already enabled", async () => {
    const h = harness();
    h.writer.setEnabled(true);
    await tick(5000);
    h.writer.setReady(KEY, ready());
    await tick(0);
    expect(h.calls).toHaveLength(1);
  });

  it("drops a write already scheduled when leadership is lost before it is due", async () => {
    const h = harness();
    h.writer.setEnabled(true);
    h.writer.setReady(KEY, ready());
    await tick(0);
    h.writer.setReady(KEY, ready({ message: "changed" })); // due at START + MIN
    await tick(MIN / 2);
    h.writer.setEnabled(false);
    await tick(MIN * 5);
    expect(h.calls).toHaveLength(1);
  });

  it("stops writing when disabled, and catches up when enabled again", async () => {
    const h = harness();
    h.writer.setEnabled(true);
    h.writer.setReady(KEY, ready());
    await tick(0);
    h.writer.setEnabled(false);
    h.writer.setReady(KEY, ready({ message: "changed" }));
    await tick(30_000);
    expect(h.calls).toHaveLength(1);
    h.writer.setEnabled(true);
    await tick(0);
    expect(h.calls).toHaveLength(2);
    expect(h.calls[1]?.status.conditions?.[0]?.message).toBe("changed");
  });
});

describe("StatusWriter: rate", () => {
  it("writes a key at most once per interval however many changes arrive", async () => {
    const h = harness();
    h.writer.setEnabled(true);
    for (let i = 0; i < 100; i++) {
      h.writer.setReady(KEY, ready({ message: `change ${i}` }));
      h.writer.markDirty(KEY);
      await tick(50); // 100 changes over 5 s
    }
    const elapsed = 100 * 50;
    expect(h.calls.length).toBeLessThanOrEqual(Math.ceil(elapsed / MIN) + 1);
    await tick(MIN);
    expect(h.calls.at(-1)?.status.conditions?.[0]?.message).toBe("change 99");
  });

  it("model: random changes over simulated time", async () => {
    const keys = ["a/one", "b/two"];
    const opArb = fc.record({
      key: fc.constantFrom(...keys),
      kind: fc.constantFrom("ready", "summary", "dirty"),
      advance: fc.integer({ min: 0, max: 2500 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 80 }), async (ops) => {
        jest.useFakeTimers({ now: START });
        const h = harness();
        h.writer.setEnabled(true);
        let n = 0;
        let elapsed = 0;
        for (const op of ops) {
          n++;
          if (op.kind === "ready") h.writer.setReady(op.key, ready({ message: `m${n}` }));
          else if (op.kind === "summary") {
            const s = h.summaries.get(op.key) ?? {
              deliveries: { succeeded: 0, failed: 0, retrying: 0, deadLettered: 0 },
            };
            s.deliveries.succeeded++;
            h.summaries.set(op.key, s);
          }
          h.writer.markDirty(op.key);
          await tick(op.advance);
          elapsed += op.advance;
        }
        for (const key of keys) {
          const writes = h.callsFor(key);
          expect(writes.length).toBeLessThanOrEqual(Math.ceil(elapsed / MIN) + 1);
          for (let i = 1; i < writes.length; i++) {
            expect(writes[i]!.at - writes[i - 1]!.at).toBeGreaterThanOrEqual(MIN);
          }
        }
        // Nothing is lost: once the interval has passed, the last write is the current status.
        await tick(MIN);
        for (const key of keys) {
          const current = h.writer.render(key);
          if (current === undefined) continue; // only summaries, never a verdict: nothing to write
          expect(h.callsFor(key).at(-1)?.status).toEqual(current);
        }
        jest.clearAllTimers();
      }),
      { numRuns: 60 },
    );
  });

  it("keeps one key's writes from delaying another's", async () => {
    const h = harness();
    h.writer.setEnabled(true);
    h.writer.setReady("a/x", ready());
    await tick(0);
    h.writer.setReady("a/x", ready({ message: "again" }));
    h.writer.setReady("b/y", ready());
    await tick(0);
    expect(h.calls.map((c) => c.key)).toEqual(["a/x", "b/y"]);
  });

  it("never has two patches of one key in flight, even when a patch outlasts the interval", async () => {
    const h = harness({ latencyMs: 3 * MIN });
    h.writer.setEnabled(true);
    for (let i = 0; i < 40; i++) {
      h.writer.setReady(KEY, ready({ message: `change ${i}` }));
      await tick(250);
    }
    await tick(10 * MIN);
    expect(h.maxInFlight()).toBe(1);
    expect(h.calls.at(-1)?.status.conditions?.[0]?.message).toBe("change 39");
  });
});

describe("StatusWriter: skipping unchanged status", () => {
  it("does not rewrite what it wrote last", async () => {
    const h = harness();
    h.writer.setEnabled(true);
    h.writer.setReady(KEY, ready());
    await tick(0);
    for (let i = 0; i < 5; i++) {
      h.writer.setReady(KEY, ready());
      h.writer.markDirty(KEY);
      await tick(MIN * 2);
    }
    expect(h.calls).toHaveLength(1);
  });

  it("does not write a change that was undone within the interval", async () => {
    const h = harness();
    h.writer.setEnabled(true);
    h.writer.setReady(KEY, ready());
    await tick(100);
    h.writer.setReady(KEY, ready({ status: "False", reason: "SecretNotFound", message: "gone" }));
    await tick(100);
    h.writer.setReady(KEY, ready());
    await tick(MIN * 5);
    expect(h.calls).toHaveLength(1);
  });

  it("does not write a status equal to the one observed in the cluster, and keeps its transition time", async () => {
    const h = harness();
    const clusterStatus: SubscriptionStatus = {
      observedGeneration: 2,
      conditions: [
        {
          type: "Ready",
          status: "True",
          reason: "Delivering",
          message: "routing 2 subject patterns",
          observedGeneration: 2,
          lastTransitionTime: "2025-01-01T00:00:00Z",
        },
      ],
      endpointState: "Active",
      deliveries: { succeeded: 0, failed: 0, retrying: 0, deadLettered: 0 },
      routes: 2,
    };
    h.writer.observe(KEY, clusterStatus);
    h.writer.setEnabled(true);
    h.writer.setReady(KEY, ready());
    await tick(MIN * 3);
    expect(h.calls).toHaveLength(0);

    h.writer.setReady(KEY, ready({ message: "routing 2 subject patterns (new)" }));
    await tick(MIN * 3);
    expect(h.calls).toHaveLength(1);
    expect(h.calls[0]?.status.conditions?.[0]?.lastTransitionTime).toBe("2025-01-01T00:00:00Z");
  });

  it("writes when the observed status differs", async () => {
    const h = harness();
    h.writer.observe(KEY, { observedGeneration: 1, routes: 2 });
    h.writer.setEnabled(true);
    h.writer.setReady(KEY, ready());
    await tick(0);
    expect(h.calls).toHaveLength(1);
  });

  it("ignores observations once it has written itself", async () => {
    const h = harness();
    h.writer.setEnabled(true);
    h.writer.setReady(KEY, ready());
    await tick(0);
    h.writer.observe(KEY, { observedGeneration: 1 });
    h.writer.setReady(KEY, ready());
    await tick(MIN * 3);
    expect(h.calls).toHaveLength(1);
  });
});

describe("StatusWriter: results", () => {
  it("forgets a key whose object is gone", async () => {
    const h = harness();
    h.results.push("gone");
    h.writer.setEnabled(true);
    h.writer.setReady(KEY, ready());
    await tick(0);
    expect(h.calls).toHaveLength(1);
    expect(h.writer.render(KEY)).toBeUndefined();
    h.writer.markDirty(KEY);
    await tick(MIN * 5);
    expect(h.calls).toHaveLength(1);
  });

  it("retries a failed patch after the interval, and logs a warning", async () => {
    const h = harness();
    h.results.push(new Error("connection refused"));
    h.writer.setEnabled(true);
    h.writer.setReady(KEY, ready());
    await tick(0);
    expect(h.calls).toHaveLength(1);
    expect(h.logLines.join("")).toContain("status write failed");
    await tick(MIN - 1);
    expect(h.calls).toHaveLength(1);
    await tick(1);
    expect(h.calls).toHaveLength(2);
    expect(h.calls[1]?.status).toEqual(h.calls[0]?.status);
    await tick(MIN * 5);
    expect(h.calls).toHaveLength(2);
  });

  it("forget() cancels a pending write", async () => {
    const h = harness();
    h.writer.setEnabled(true);
    h.writer.setReady(KEY, ready());
    await tick(0);
    h.writer.setReady(KEY, ready({ message: "later" }));
    h.writer.forget(KEY);
    await tick(MIN * 5);
    expect(h.calls).toHaveLength(1);
  });

  it("flush() writes pending entries at once and waits for them", async () => {
    const h = harness();
    h.writer.setEnabled(true);
    h.writer.setReady("a/x", ready());
    h.writer.setReady("b/y", ready());
    await tick(0);
    h.writer.setReady("a/x", ready({ message: "pending a" }));
    h.writer.setReady("b/y", ready({ message: "pending b" }));
    await tick(10);
    expect(h.calls).toHaveLength(2);
    await h.writer.flush();
    expect(h.calls).toHaveLength(4);
    expect(h.calls.slice(2).map((c) => c.status.conditions?.[0]?.message)).toEqual([
      "pending a",
      "pending b",
    ]);
    expect(h.calls[3]?.at).toBe(START.getTime() + 10);
    // Nothing left over for the timers.
    await tick(MIN * 5);
    expect(h.calls).toHaveLength(4);
  });
});

describe("StatusWriter.flush with a slow API server", () => {
  it("waits for the write in flight instead of patching the same key concurrently", async () => {
    const h = harness({ latencyMs: 3 * MIN });
    h.writer.setEnabled(true);
    h.writer.setReady(KEY, ready());
    await tick(0);
    h.writer.setReady(KEY, ready({ message: "pending" }));
    let flushed = false;
    const f = h.writer.flush().then(() => {
      flushed = true;
    });
    await tick(0);
    expect(h.calls).toHaveLength(1);
    await tick(3 * MIN);
    expect(h.calls).toHaveLength(2);
    expect(flushed).toBe(false);
    await tick(3 * MIN);
    await f;
    expect(h.maxInFlight()).toBe(1);
    expect(h.calls[1]?.status.conditions?.[0]?.message).toBe("pending");
  });
});

describe("StatusWriter.render", () => {
  it("is undefined for unknown keys and keys without a verdict", () => {
    const h = harness();
    expect(h.writer.render(KEY)).toBeUndefined();
    h.writer.observe(KEY, { observedGeneration: 1 });
    expect(h.writer.render(KEY)).toBeUndefined();
  });

  it("renders a Ready verdict with zero deliveries and endpointState Active", () => {
    const h = harness();
    h.writer.setReady(KEY, ready({ observedGeneration: 7, routes: 3 }));
    expect(h.writer.render(KEY)).toEqual({
      observedGeneration: 7,
      conditions: [
        {
          type: "Ready",
          status: "True",
          reason: "Delivering",
          message: "routing 2 subject patterns",
          observedGeneration: 7,
          lastTransitionTime: "2025-06-01T12:00:00Z",
        },
      ],
      routes: 3,
      deliveries: { succeeded: 0, failed: 0, retrying: 0, deadLettered: 0 },
      endpointState: "Active",
    });
  });

  it("has no endpointState for a verdict that is not Ready, without a summary", () => {
    const h = harness();
    h.writer.setReady(KEY, ready({ status: "False", reason: "SecretNotFound", routes: 0 }));
    const s = h.writer.render(KEY);
    expect(s).toBeDefined();
    expect(s).not.toHaveProperty("endpointState");
    expect(s?.conditions?.[0]).toMatchObject({ status: "False", reason: "SecretNotFound" });
  });

  it("takes endpointState from the verdict's override first, then from the summary", () => {
    const h = harness();
    h.summaries.set(KEY, {
      deliveries: { succeeded: 1, failed: 0, retrying: 0, deadLettered: 0 },
      endpointState: "CircuitOpen",
    });
    h.writer.setReady(KEY, ready());
    expect(h.writer.render(KEY)?.endpointState).toBe("CircuitOpen");
    h.writer.setReady(KEY, ready({ status: "False", reason: "Paused", endpointState: "Paused" }));
    expect(h.writer.render(KEY)?.endpointState).toBe("Paused");
  });

  it("includes the summary's counts, last attempt and last success", () => {
    const h = harness();
    const summary: DeliverySummary = {
      deliveries: { succeeded: 10, failed: 2, retrying: 1, deadLettered: 1 },
      lastAttempt: { time: "2025-06-01T11:00:00.000Z", eventId: "e9", statusCode: 500, durationMs: 8 },
      lastSuccessTime: "2025-06-01T10:00:00.000Z",
    };
    h.summaries.set(KEY, summary);
    h.writer.setReady(KEY, ready());
    expect(h.writer.render(KEY)).toMatchObject({
      deliveries: summary.deliveries,
      lastAttempt: summary.lastAttempt,
      lastSuccessTime: summary.lastSuccessTime,
      endpointState: "Active",
    });
  });

  it("moves the Ready condition's lastTransitionTime only when its status flips", async () => {
    const h = harness();
    h.writer.setReady(KEY, ready());
    expect(h.writer.render(KEY)?.conditions?.[0]?.lastTransitionTime).toBe("2025-06-01T12:00:00Z");
    await tick(60_000);
    h.writer.setReady(KEY, ready({ message: "other" }));
    expect(h.writer.render(KEY)?.conditions?.[0]?.lastTransitionTime).toBe("2025-06-01T12:00:00Z");
    h.writer.setReady(KEY, ready({ status: "False", reason: "InvalidSecret" }));
    expect(h.writer.render(KEY)?.conditions?.[0]?.lastTransitionTime).toBe("2025-06-01T12:01:00Z");
  });
});
