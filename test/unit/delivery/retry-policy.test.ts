import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import {
  type DeliveryOutcome,
  ERR_DESTINATION_REFUSED,
  MAX_RETRY_AFTER_MS,
  MIN_RETRY_AFTER_MS,
  type Verdict,
  classify,
  parseHttpDate,
  parseRetryAfter,
  retryDelayMs,
} from "../../../src/delivery/retry-policy.js";

const response = (status: number): DeliveryOutcome => ({ kind: "response", status });
const error = (code: string | undefined, message: string): DeliveryOutcome =>
  code === undefined ? { kind: "error", message } : { kind: "error", code, message };

describe("classify", () => {
  const table: [string, DeliveryOutcome, Verdict][] = [
    ["200", response(200), "success"],
    ["204", response(204), "success"],
    ["299", response(299), "success"],
    ["101", response(101), "fail"],
    ["301 (redirects are not followed)", response(301), "fail"],
    ["302", response(302), "fail"],
    ["304", response(304), "fail"],
    ["400", response(400), "fail"],
    ["401", response(401), "fail"],
    ["404", response(404), "fail"],
    ["408", response(408), "retry"],
    ["409", response(409), "fail"],
    ["410", response(410), "disable"],
    ["413", response(413), "fail"],
    ["422", response(422), "fail"],
    ["429", response(429), "retry"],
    ["500", response(500), "retry"],
    ["502", response(502), "retry"],
    ["503", response(503), "retry"],
    ["599", response(599), "retry"],
    ["600 (not a status)", response(600), "fail"],
    ["0", response(0), "fail"],
    ["connection refused", error("ECONNREFUSED", "connect ECONNREFUSED 1.2.3.4:443"), "retry"],
    ["connection reset", error("ECONNRESET", "socket hang up"), "retry"],
    ["connect timeout", error("UND_ERR_CONNECT_TIMEOUT", "Connect Timeout Error"), "retry"],
    ["headers timeout", error("UND_ERR_HEADERS_TIMEOUT", "Headers Timeout Error"), "retry"],
    ["body timeout", error("UND_ERR_BODY_TIMEOUT", "Body Timeout Error"), "retry"],
    ["DNS failure", error("ENOTFOUND", "getaddrinfo ENOTFOUND nowhere.example"), "retry"],
    ["DNS temporary failure", error("EAI_AGAIN", "getaddrinfo EAI_AGAIN example.com"), "retry"],
    ["TLS error", error("CERT_HAS_EXPIRED", "certificate has expired"), "retry"],
    ["error without a code", error(undefined, "something broke"), "retry"],
    ["refused destination", error(ERR_DESTINATION_REFUSED, 'destination "x" refused'), "fail"],
    ["invalid URL", error("ERR_INVALID_URL", "Invalid URL"), "fail"],
  ];
  it.each(table)("%s", (_name, outcome, verdict) => {
    expect(classify(outcome)).toBe(verdict);
  });

  it("ignores Retry-After when classifying", () => {
    expect(classify({ kind: "response", status: 503, retryAfter: "120" })).toBe("retry");
    expect(classify({ kind: "response", status: 200, retryAfter: "120" })).toBe("success");
  });
});

describe("retryDelayMs", () => {
  const schedule = [5_000, 300_000, 1_800_000];
  const middle = () => 0.5; // jitter factor exactly 1

  it("follows the schedule: attempt 1 is the first retry", () => {
    expect(retryDelayMs(1, schedule, 0.2, middle)).toBe(5_000);
    expect(retryDelayMs(2, schedule, 0.2, middle)).toBe(300_000);
    expect(retryDelayMs(3, schedule, 0.2, middle)).toBe(1_800_000);
  });

  it("is undefined once the schedule is used up (dead letter)", () => {
    expect(retryDelayMs(4, schedule, 0.2, middle)).toBeUndefined();
    expect(retryDelayMs(1, [], 0.2, middle)).toBeUndefined();
    expect(retryDelayMs(4, schedule, 0.2, middle, 10_000)).toBeUndefined();
  });

  it("spreads by ±jitter at the ends of the random range", () => {
    expect(retryDelayMs(1, [10_000], 0.2, () => 0)).toBe(8_000);
    expect(retryDelayMs(1, [10_000], 0.2, () => 0.999999999)).toBe(12_000);
    expect(retryDelayMs(1, [10_000], 0, () => 0)).toBe(10_000);
  });

  it("rejects nonsense arguments", () => {
    expect(() => retryDelayMs(0, schedule, 0.2, middle)).toThrow(RangeError);
    expect(() => retryDelayMs(1.5, schedule, 0.2, middle)).toThrow(RangeError);
    expect(() => retryDelayMs(1, schedule, 1.5, middle)).toThrow(RangeError);
    expect(() => retryDelayMs(1, schedule, Number.NaN, middle)).toThrow(RangeError);
    expect(() => retryDelayMs(1, [-1], 0.2, middle)).toThrow(RangeError);
  });

  it("always stays within [d(1-j), d(1+j)]", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 86_400_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (delay, jitter, r) => {
          const d = retryDelayMs(1, [delay], jitter, () => r)!;
          expect(d).toBeGreaterThanOrEqual(delay * (1 - jitter));
          expect(d).toBeLessThanOrEqual(delay * (1 + jitter));
        },
      ),
    );
  });

  it("honours a longer Retry-After, unjittered, but never shortens the wait", () => {
    expect(retryDelayMs(1, [5_000], 0.2, middle, 60_000)).toBe(60_000);
    expect(retryDelayMs(2, [5_000, 300_000], 0.2, middle, 60_000)).toBe(300_000);
  });

  it("clamps Retry-After to [1 s, 1 h]", () => {
    expect(retryDelayMs(1, [0], 0, middle, 0)).toBe(MIN_RETRY_AFTER_MS);
    expect(MIN_RETRY_AFTER_MS).toBe(1_000);
    expect(retryDelayMs(1, [5_000], 0, middle, 10 * 86_400_000)).toBe(MAX_RETRY_AFTER_MS);
    expect(MAX_RETRY_AFTER_MS).toBe(3_600_000);
    expect(retryDelayMs(1, [5_000], 0, middle, Number.POSITIVE_INFINITY)).toBe(MAX_RETRY_AFTER_MS);
    // A schedule longer than the clamp still wins.
    expect(retryDelayMs(1, [7_200_000], 0, middle, 10 * 86_400_000)).toBe(7_200_000);
  });

  it("never waits less than the Retry-After (within the clamp) nor than the jittered schedule", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1_000, max: 86_400_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.integer({ min: 0, max: 10 * 86_400_000 }),
        (delay, jitter, r, retryAfter) => {
          const d = retryDelayMs(1, [delay], jitter, () => r, retryAfter)!;
          const clamped = Math.min(MAX_RETRY_AFTER_MS, Math.max(MIN_RETRY_AFTER_MS, retryAfter));
          expect(d).toBeGreaterThanOrEqual(clamped);
          expect(d).toBeGreaterThanOrEqual(delay * (1 - jitter));
          expect(d).toBeLessThanOrEqual(Math.max(clamped, delay * (1 + jitter)));
        },
      ),
    );
  });
});

describe("parseRetryAfter", () => {
  const now = new Date("2025-06-01T12:00:00Z");

  it("reads delta-seconds", () => {
    expect(parseRetryAfter("120", now)).toBe(120_000);
    expect(parseRetryAfter("0", now)).toBe(0);
    expect(parseRetryAfter(" 5 ", now)).toBe(5_000);
  });

  it("reads negative seconds as 0", () => {
    expect(parseRetryAfter("-5", now)).toBe(0);
  });

  it("reads an IMF-fixdate", () => {
    expect(parseRetryAfter("Sun, 01 Jun 2025 12:01:30 GMT", now)).toBe(90_000);
  });

  it("reads the obsolete RFC 850 and asctime formats", () => {
    expect(parseRetryAfter("Sunday, 01-Jun-25 12:00:10 GMT", now)).toBe(10_000);
    expect(parseRetryAfter("Sun Jun  1 12:00:20 2025", now)).toBe(20_000);
    expect(parseRetryAfter("Mon Jun 16 12:00:00 2025", now)).toBe(15 * 86_400_000);
  });

  it("reads a date in the past as 0", () => {
    expect(parseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", now)).toBe(0);
  });

  it("rejects garbage", () => {
    for (const value of [
      "",
      "soon",
      "soon 2",
      "1.5",
      "+5",
      "5s",
      "0x10",
      "2025-06-01T12:00:00Z",
      "Sun, 01 Jun 2025 12:01:30 UTC",
      "Sun, 31 Feb 2025 12:00:00 GMT",
      "Sun, 01 Jun 2025 25:00:00 GMT",
      "sun, 01 jun 2025 12:00:00 GMT",
      "Sun, 1 Jun 2025 12:00:00 GMT",
    ]) {
      expect([value, parseRetryAfter(value, now)]).toEqual([value, undefined]);
    }
  });
});

describe("parseHttpDate", () => {
  it("reads the RFC 9110 example in all three formats as the same instant", () => {
    const now = new Date("2025-01-01T00:00:00Z");
    const expected = Date.UTC(1994, 10, 6, 8, 49, 37);
    expect(parseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT", now)).toBe(expected);
    expect(parseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT", now)).toBe(expected);
    expect(parseHttpDate("Sun Nov  6 08:49:37 1994", now)).toBe(expected);
  });

  it("reads a two-digit year more than 50 years ahead as the past century", () => {
    const now = new Date("2025-01-01T00:00:00Z");
    expect(new Date(parseHttpDate("Monday, 01-Jan-75 00:00:00 GMT", now)!).getUTCFullYear()).toBe(2075);
    expect(new Date(parseHttpDate("Tuesday, 01-Jan-76 00:00:00 GMT", now)!).getUTCFullYear()).toBe(1976);
  });

  it("round-trips every IMF-fixdate that Date#toUTCString writes", () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(1970, 0, 1), max: Date.UTC(9999, 11, 31) }), (ms) => {
        const t = Math.floor(ms / 1000) * 1000;
        expect(parseHttpDate(new Date(t).toUTCString(), new Date(0))).toBe(t);
      }),
    );
  });
});
