import { describe, expect, it } from "@jest/globals";
import { setCondition, type Condition } from "../../../src/status/conditions.js";

const T0 = new Date("2025-06-01T12:00:00.123Z");
const T1 = new Date("2025-06-01T13:30:00.456Z");

const ready = (status: Condition["status"], reason = "Delivering", message = "ok", generation = 1) => ({
  type: "Ready",
  status,
  reason,
  message,
  observedGeneration: generation,
});

describe("setCondition", () => {
  it("adds a missing condition with the time of now, in RFC 3339 seconds", () => {
    expect(setCondition(undefined, ready("True"), T0)).toEqual([
      { ...ready("True"), lastTransitionTime: "2025-06-01T12:00:00Z" },
    ]);
  });

  it("keeps lastTransitionTime when the status stays, but updates reason, message and observedGeneration", () => {
    const first = setCondition([], ready("False", "SecretNotFound", "missing", 1), T0);
    const second = setCondition(first, ready("False", "InvalidSecret", "bad", 2), T1);
    expect(second).toEqual([
      {
        type: "Ready",
        status: "False",
        reason: "InvalidSecret",
        message: "bad",
        observedGeneration: 2,
        lastTransitionTime: "2025-06-01T12:00:00Z",
      },
    ]);
  });

  it.each([
    ["True", "False"],
    ["False", "True"],
    ["Unknown", "True"],
    ["True", "Unknown"],
  ] as const)("moves lastTransitionTime when the status flips from %s to %s", (from, to) => {
    const first = setCondition([], ready(from), T0);
    const second = setCondition(first, ready(to), T1);
    expect(second[0]?.lastTransitionTime).toBe("2025-06-01T13:30:00Z");
    expect(second[0]?.status).toBe(to);
  });

  it("preserves other condition types and their order, and does not mutate its input", () => {
    const existing: Condition[] = [
      {
        type: "Synced",
        status: "True",
        reason: "A",
        message: "a",
        lastTransitionTime: "2020-01-01T00:00:00Z",
      },
      { ...ready("True"), lastTransitionTime: "2021-01-01T00:00:00Z" },
      {
        type: "Degraded",
        status: "False",
        reason: "B",
        message: "b",
        lastTransitionTime: "2022-01-01T00:00:00Z",
      },
    ];
    const snapshot = structuredClone(existing);
    const next = setCondition(existing, ready("False", "Paused", "paused", 3), T1);
    expect(existing).toEqual(snapshot);
    expect(next.map((c) => c.type)).toEqual(["Synced", "Ready", "Degraded"]);
    expect(next[0]).toEqual(snapshot[0]);
    expect(next[2]).toEqual(snapshot[2]);
    expect(next[1]).toEqual({
      ...ready("False", "Paused", "paused", 3),
      lastTransitionTime: "2025-06-01T13:30:00Z",
    });
  });

  it("appends a new type after the existing ones", () => {
    const existing: Condition[] = [
      {
        type: "Synced",
        status: "True",
        reason: "A",
        message: "a",
        lastTransitionTime: "2020-01-01T00:00:00Z",
      },
    ];
    const next = setCondition(existing, ready("True"), T0);
    expect(next.map((c) => c.type)).toEqual(["Synced", "Ready"]);
    expect(next[0]).toBe(existing[0]);
  });
});
