import { describe, expect, it } from "@jest/globals";
import { celValueOf, type FilterEvent, headersFromEntries } from "../../../src/routing/filter-event.js";

describe("headersFromEntries", () => {
  it("lower-cases names and joins repeated ones", () => {
    expect(
      headersFromEntries([
        ["X-Region", "eu"],
        ["Accept", "a"],
        ["accept", "b"],
      ]),
    ).toEqual({ "x-region": "eu", accept: "a, b" });
  });

  it("treats names like constructor as ordinary headers", () => {
    expect(headersFromEntries([["Constructor", "x"]])).toEqual({ constructor: "x" });
  });
});

describe("celValueOf", () => {
  const event: FilterEvent = {
    subject: "a.b",
    id: "i",
    time: new Date("2024-05-01T10:20:30.123Z"),
    headers: {},
  };

  it("turns the event time into a protobuf Timestamp", () => {
    expect(celValueOf("time", event)).toEqual({
      $typeName: "google.protobuf.Timestamp",
      seconds: 1714558830n,
      nanos: 123_000_000,
    });
  });

  it("keeps nanos non-negative before 1970", () => {
    expect(celValueOf("time", { ...event, time: new Date(-1) })).toMatchObject({
      seconds: -1n,
      nanos: 999_000_000,
    });
  });

  it("passes the other variables through", () => {
    expect(celValueOf("subject", event)).toBe("a.b");
    expect(celValueOf("data", event)).toBeUndefined();
    expect(celValueOf("data", { ...event, data: null })).toBeNull();
  });
});
