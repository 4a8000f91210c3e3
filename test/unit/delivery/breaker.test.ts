import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import {
  type BreakerChange,
  CircuitBreaker,
  type HealthSignal,
  type Permit,
  endpointStateOf,
  healthSignal,
} from "../../../src/delivery/breaker.js";
import { ERR_DESTINATION_REFUSED } from "../../../src/delivery/retry-policy.js";

function breaker(failureThreshold = 3, probeIntervalMs = 1_000) {
  const changes: BreakerChange[] = [];
  const b = new CircuitBreaker({ failureThreshold, probeIntervalMs, onChange: (c) => changes.push(c) });
  return { b, changes };
}

function fail(b: CircuitBreaker, now: number, times = 1): void {
  for (let i = 0; i < times; i++) {
    const permit = b.canAttempt(now);
    if (!permit) throw new Error("no permit");
    b.record(permit, "failure", now);
  }
}

describe("healthSignal", () => {
  it.each([
    [{ kind: "response", status: 200 }, "success"],
    [{ kind: "response", status: 302 }, "success"],
    [{ kind: "response", status: 400 }, "success"],
    [{ kind: "response", status: 404 }, "success"],
    [{ kind: "response", status: 410 }, "success"],
    [{ kind: "response", status: 408 }, "failure"],
    [{ kind: "response", status: 429 }, "failure"],
    [{ kind: "response", status: 500 }, "failure"],
    [{ kind: "response", status: 503 }, "failure"],
    [{ kind: "error", code: "ECONNREFUSED", message: "refused" }, "failure"],
    [{ kind: "error", code: "UND_ERR_HEADERS_TIMEOUT", message: "timeout" }, "failure"],
    [{ kind: "error", code: "ENOTFOUND", message: "dns" }, "failure"],
    [{ kind: "error", message: "no code" }, "failure"],
    [{ kind: "error", code: ERR_DESTINATION_REFUSED, message: "ssrf" }, "neutral"],
  ] as const)("%j → %s", (outcome, signal) => {
    expect(healthSignal(outcome)).toBe(signal);
  });
});

describe("CircuitBreaker", () => {
  it("stays closed below the threshold and opens at it", () => {
    const { b, changes } = breaker(3);
    fail(b, 0, 2);
    expect(b.state).toBe("closed");
    expect(b.consecutiveFailures).toBe(2);
    fail(b, 10);
    expect(b.state).toBe("open");
    expect(b.nextProbeAt).toBe(1_010);
    expect(changes).toEqual([{ from: "closed", to: "open", at: 10, endpointState: "CircuitOpen" }]);
  });

  it("counts only consecutive failures: a success or a 4xx in between resets", () => {
    const { b } = breaker(3);
    fail(b, 0, 2);
    const p = b.canAttempt(0) as Permit;
    b.record(p, healthSignal({ kind: "response", status: 422 }), 0);
    fail(b, 0, 2);
    expect(b.state).toBe("closed");
    const q = b.canAttempt(0) as Permit;
    b.record(q, "neutral", 0);
    expect(b.consecutiveFailures).toBe(2);
    fail(b, 0);
    expect(b.state).toBe("open");
  });

  it("allows exactly one probe per interval while open", () => {
    const { b } = breaker(1, 1_000);
    fail(b, 0);
    expect(b.canAttempt(0)).toBe(false);
    expect(b.canAttempt(999)).toBe(false);
    const probe = b.canAttempt(1_000);
    expect(probe).toEqual({ probe: true });
    expect(b.state).toBe("half-open");
    expect(b.canAttempt(1_000)).toBe(false);
    expect(b.canAttempt(50_000)).toBe(false);
  });

  it("closes when the probe succeeds", () => {
    const { b, changes } = breaker(1, 1_000);
    fail(b, 0);
    const probe = b.canAttempt(1_000) as Permit;
    b.record(probe, "success", 1_200);
    expect(b.state).toBe("closed");
    expect(b.consecutiveFailures).toBe(0);
    expect(b.canAttempt(1_200)).toEqual({ probe: false });
    expect(changes.map((c) => [c.from, c.to, c.at, c.endpointState])).toEqual([
      ["closed", "open", 0, "CircuitOpen"],
      ["open", "half-open", 1_000, "CircuitOpen"],
      ["half-open", "closed", 1_200, "Active"],
    ]);
  });

  it("reopens when the probe fails, with the next probe one interval after the failure", () => {
    const { b } = breaker(1, 1_000);
    fail(b, 0);
    const probe = b.canAttempt(1_000) as Permit;
    b.record(probe, "failure", 1_500);
    expect(b.state).toBe("open");
    expect(b.nextProbeAt).toBe(2_500);
    expect(b.canAttempt(2_499)).toBe(false);
    expect(b.canAttempt(2_500)).toEqual({ probe: true });
  });

  it("lets the next attempt probe at once when the probe told nothing (neutral)", () => {
    const { b } = breaker(1, 1_000);
    fail(b, 0);
    b.record(b.canAttempt(1_000) as Permit, "neutral", 1_100);
    expect(b.state).toBe("open");
    expect(b.canAttempt(1_100)).toEqual({ probe: true });
  });

  it("ignores results of attempts that started before the circuit opened", () => {
    const { b } = breaker(2, 1_000);
    const early = b.canAttempt(0) as Permit;
    fail(b, 0, 2);
    expect(b.state).toBe("open");
    b.record(early, "success", 10);
    expect(b.state).toBe("open");
    const probe = b.canAttempt(1_000) as Permit;
    b.record(early, "failure", 1_001);
    expect(b.state).toBe("half-open");
    b.record(probe, "success", 1_002);
    expect(b.state).toBe("closed");
    // Still stale after closing again: it belongs to the previous closed period.
    b.record(early, "failure", 1_003);
    b.record(early, "failure", 1_004);
    expect(b.consecutiveFailures).toBe(0);
    // A probe permit is good for one result only.
    b.record(probe, "failure", 1_005);
    expect(b.state).toBe("closed");
  });

  it("maps states to endpointState", () => {
    expect(endpointStateOf("closed")).toBe("Active");
    expect(endpointStateOf("open")).toBe("CircuitOpen");
    expect(endpointStateOf("half-open")).toBe("CircuitOpen");
  });

  it("rejects bad options", () => {
    expect(() => new CircuitBreaker({ failureThreshold: 0, probeIntervalMs: 1 })).toThrow(RangeError);
    expect(() => new CircuitBreaker({ failureThreshold: 1.5, probeIntervalMs: 1 })).toThrow(RangeError);
    expect(() => new CircuitBreaker({ failureThreshold: 1, probeIntervalMs: 0 })).toThrow(RangeError);
  });

  type Op =
    { kind: "attempt"; dt: number } | { kind: "finish"; pick: number; signal: HealthSignal; dt: number };
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ kind: fc.constant("attempt" as const), dt: fc.integer({ min: 0, max: 700 }) }),
    fc.record({
      kind: fc.constant("finish" as const),
      pick: fc.nat(),
      signal: fc.constantFrom<HealthSignal>("success", "failure", "failure", "neutral"),
      dt: fc.integer({ min: 0, max: 700 }),
    }),
  );

  it("never has more than one probe in flight, and grants nothing else while not closed", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 2_000 }),
        fc.array(op, { maxLength: 300 }),
        (threshold, interval, ops) => {
          const b = new CircuitBreaker({ failureThreshold: threshold, probeIntervalMs: interval });
          let now = 0;
          const inFlight: Permit[] = [];
          for (const o of ops) {
            now += o.dt;
            if (o.kind === "attempt") {
              const before = b.state;
              const permit = b.canAttempt(now);
              if (permit) {
                inFlight.push(permit);
                expect(permit.probe).toBe(before !== "closed");
              }
            } else if (inFlight.length > 0) {
              const [permit] = inFlight.splice(o.pick % inFlight.length, 1);
              b.record(permit!, o.signal, now);
            }
            // Recording is the only way a probe ends, so every probe permit held is still in flight.
            const probes = inFlight.filter((p) => p.probe).length;
            expect(probes).toBeLessThanOrEqual(1);
            expect(probes === 1).toBe(b.state === "half-open");
          }
        },
      ),
    );
  });
});
