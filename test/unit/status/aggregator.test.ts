import { describe, expect, it } from "@jest/globals";
import { OutcomeAggregator } from "../../../src/status/aggregator.js";
import type { AttemptOutcome, DeliverySummary } from "../../../src/status/outcomes.js";

const SUB = "shop/orders";
const T0 = new Date("2025-06-01T12:00:00.000Z");

function outcome(o: Partial<AttemptOutcome> = {}): AttemptOutcome {
  return {
    subscription: SUB,
    eventId: "ev-1",
    result: "delivered",
    durationMs: 12,
    time: T0.getTime(),
    ...o,
  };
}

function withListener(): { agg: OutcomeAggregator; calls: string[] } {
  const agg = new OutcomeAggregator();
  const calls: string[] = [];
  agg.onChange((s) => calls.push(s));
  return { agg, calls };
}

describe("OutcomeAggregator.seed", () => {
  const fromStatus: DeliverySummary = {
    deliveries: { succeeded: 1204, failed: 3, retrying: 7, deadLettered: 2 },
    lastAttempt: { time: "2025-05-31T00:00:00Z", eventId: "old", statusCode: 204, durationMs: 3 },
    lastSuccessTime: "2025-05-31T00:00:00Z",
    endpointState: "CircuitOpen",
  };

  it("continues the counts of an existing status, except retrying", () => {
    const agg = new OutcomeAggregator();
    agg.seed(SUB, fromStatus);
    expect(agg.get(SUB)).toEqual({
      deliveries: { succeeded: 1204, failed: 3, retrying: 0, deadLettered: 2 },
      lastAttempt: fromStatus.lastAttempt,
      lastSuccessTime: "2025-05-31T00:00:00Z",
    });
    agg.attempt(outcome());
    agg.attempt(outcome({ result: "failed" }));
    expect(agg.get(SUB)?.deliveries).toEqual({ succeeded: 1205, failed: 4, retrying: 0, deadLettered: 2 });
  });

  it("starts from zero without a status, and ignores counts that are not non-negative numbers", () => {
    const agg = new OutcomeAggregator();
    agg.seed("a", undefined);
    expect(agg.get("a")).toEqual({ deliveries: { succeeded: 0, failed: 0, retrying: 0, deadLettered: 0 } });
    agg.seed("b", {
      deliveries: { succeeded: -1, failed: Number.NaN, retrying: 1, deadLettered: "5" as unknown as number },
    });
    expect(agg.get("b")?.deliveries).toEqual({ succeeded: 0, failed: 0, retrying: 0, deadLettered: 0 });
  });

  it("does not overwrite a summary that already exists", () => {
    const agg = new OutcomeAggregator();
    agg.seed(SUB, fromStatus);
    agg.attempt(outcome());
    agg.seed(SUB, { deliveries: { succeeded: 1, failed: 1, retrying: 0, deadLettered: 1 } });
    expect(agg.get(SUB)?.deliveries.succeeded).toBe(1205);
  });

  it("forget drops the summary, so a new seed applies", () => {
    const agg = new OutcomeAggregator();
    agg.seed(SUB, fromStatus);
    agg.forget(SUB);
    expect(agg.get(SUB)).toBeUndefined();
    agg.seed(SUB, { deliveries: { succeeded: 9, failed: 0, retrying: 0, deadLettered: 0 } });
    expect(agg.get(SUB)?.deliveries.succeeded).toBe(9);
  });
});

describe("OutcomeAggregator.attempt", () => {
  it("counts each result and notifies listeners once per attempt", () => {
    const { agg, calls } = withListener();
    agg.attempt(outcome({ result: "delivered" }));
    agg.attempt(outcome({ result: "delivered" }));
    agg.attempt(outcome({ result: "retrying" }));
    agg.attempt(outcome({ result: "failed" }));
    agg.attempt(outcome({ result: "deadLettered" }));
    // Every attempt that did not deliver is a failed attempt; dead letters are also counted on their own.
    expect(agg.get(SUB)?.deliveries).toEqual({ succeeded: 2, failed: 3, retrying: 0, deadLettered: 1 });
    expect(calls).toEqual([SUB, SUB, SUB, SUB, SUB]);
  });

  it("keeps subscriptions apart", () => {
    const { agg, calls } = withListener();
    agg.attempt(outcome({ subscription: "a/x" }));
    agg.attempt(outcome({ subscription: "b/y", result: "failed" }));
    expect(agg.get("a/x")?.deliveries).toMatchObject({ succeeded: 1, failed: 0 });
    expect(agg.get("b/y")?.deliveries).toMatchObject({ succeeded: 0, failed: 1 });
    expect(calls).toEqual(["a/x", "b/y"]);
  });

  it("records the last attempt and, for deliveries, the last success time", () => {
    const agg = new OutcomeAggregator();
    agg.attempt(outcome({ eventId: "e1", statusCode: 204, durationMs: 3.6 }));
    expect(agg.get(SUB)).toMatchObject({
      lastAttempt: { time: "2025-06-01T12:00:00.000Z", eventId: "e1", statusCode: 204, durationMs: 4 },
      lastSuccessTime: "2025-06-01T12:00:00.000Z",
    });

    const t1 = new Date(T0.getTime() + 60_000);
    agg.attempt(
      outcome({ eventId: "e2", result: "retrying", statusCode: 503, error: "HTTP 503", time: t1.getTime() }),
    );
    expect(agg.get(SUB)?.lastAttempt).toEqual({
      time: t1.toISOString(),
      eventId: "e2",
      statusCode: 503,
      durationMs: 12,
      error: "HTTP 503",
    });
    expect(agg.get(SUB)?.lastSuccessTime).toBe("2025-06-01T12:00:00.000Z");

    // A later attempt without a response carries neither the old status code nor the old error.
    const t2 = new Date(T0.getTime() + 120_000);
    agg.attempt(outcome({ eventId: "e3", result: "failed", time: t2.getTime() }));
    expect(agg.get(SUB)?.lastAttempt).toEqual({ time: t2.toISOString(), eventId: "e3", durationMs: 12 });
  });

  it("keeps the time of a success followed, before status is read, by a failure", () => {
    const agg = new OutcomeAggregator();
    agg.attempt(outcome({ eventId: "e1" }));
    const t1 = T0.getTime() + 5000;
    agg.attempt(outcome({ eventId: "e2", result: "retrying", statusCode: 503, time: t1 }));
    expect(agg.get(SUB)).toMatchObject({
      lastAttempt: { time: new Date(t1).toISOString(), eventId: "e2", statusCode: 503 },
      lastSuccessTime: T0.toISOString(),
    });
    // Read again with nothing new: the same summary.
    expect(agg.get(SUB)?.lastSuccessTime).toBe(T0.toISOString());
  });

  it("truncates the error text to 512 characters", () => {
    const agg = new OutcomeAggregator();
    agg.attempt(outcome({ result: "failed", error: "x".repeat(511) + "yz" + "q".repeat(2000) }));
    const error = agg.get(SUB)?.lastAttempt?.error ?? "";
    expect(error).toHaveLength(512);
    expect(error.endsWith("xy")).toBe(true);
    agg.attempt(outcome({ result: "failed", error: "short" }));
    expect(agg.get(SUB)?.lastAttempt?.error).toBe("short");
  });
});

describe("OutcomeAggregator.retrying", () => {
  it("adds deltas and never goes below 0", () => {
    const { agg, calls } = withListener();
    agg.retrying(SUB, +1);
    agg.retrying(SUB, +1);
    agg.retrying(SUB, -1);
    expect(agg.get(SUB)?.deliveries.retrying).toBe(1);
    agg.retrying(SUB, -5);
    expect(agg.get(SUB)?.deliveries.retrying).toBe(0);
    agg.retrying(SUB, -1);
    expect(agg.get(SUB)?.deliveries.retrying).toBe(0);
    agg.retrying(SUB, +3);
    expect(agg.get(SUB)?.deliveries.retrying).toBe(3);
    // Five of the six calls changed the count (the -1 at 0 did not).
    expect(calls.length).toBeGreaterThanOrEqual(5);
    expect(new Set(calls)).toEqual(new Set([SUB]));
  });
});

describe("OutcomeAggregator.endpointState", () => {
  it("notifies listeners only when the state changes", () => {
    const { agg, calls } = withListener();
    agg.endpointState(SUB, "Active");
    agg.endpointState(SUB, "Active");
    expect(calls).toEqual([SUB]);
    agg.endpointState(SUB, "Backoff");
    agg.endpointState(SUB, "Backoff");
    agg.endpointState(SUB, "CircuitOpen");
    agg.endpointState(SUB, "Active");
    expect(calls).toEqual([SUB, SUB, SUB, SUB]);
    expect(agg.get(SUB)?.endpointState).toBe("Active");
  });

  it("notifies every listener", () => {
    const agg = new OutcomeAggregator();
    const a: string[] = [];
    const b: string[] = [];
    agg.onChange((s) => a.push(s));
    agg.onChange((s) => b.push(s));
    agg.endpointState(SUB, "Disabled");
    expect([a, b]).toEqual([[SUB], [SUB]]);
  });
});
