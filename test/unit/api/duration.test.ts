import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { formatDuration, parseDuration } from "../../../src/api/duration.js";

describe("parseDuration", () => {
  it.each([
    ["500ms", 500],
    ["15s", 15_000],
    ["5m", 300_000],
    ["2h", 7_200_000],
    ["1h30m", 5_400_000],
    ["1.5s", 1500],
    ["0s", 0],
  ])("%s is %d ms", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(["", "15", "s", "-5s", "5 s", "5d", "1h 30m", "abc", "5sm"])("rejects %j", (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it("reads back what formatDuration writes", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100 * 3_600_000 }), (ms) => {
        expect(parseDuration(formatDuration(ms))).toBe(ms);
      }),
    );
  });
});
