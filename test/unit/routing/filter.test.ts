import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { type CompiledFilter, compileFilter } from "../../../src/routing/filter.js";
import type { FilterEvent } from "../../../src/routing/filter-event.js";

const EVENT: FilterEvent = {
  subject: "shop.orders.eu.created",
  id: "evt-1",
  time: new Date("2024-05-01T10:20:30.123Z"),
  headers: { "x-region": "eu", "content-type": "application/json" },
  data: {
    total: 150,
    price: 9.5,
    items: [{ sku: "B" }, { sku: "A" }],
    tags: ["vip", "new"],
    customer: { name: "Ada" },
    note: null,
  },
};

function compile(source: string): CompiledFilter {
  const result = compileFilter(source);
  if (!result.ok) throw new Error(`expected ${JSON.stringify(source)} to compile: ${result.error}`);
  return result.filter;
}

function compileError(source: string): string {
  const result = compileFilter(source);
  if (result.ok) throw new Error(`expected ${JSON.stringify(source)} not to compile`);
  return result.error;
}

describe("compileFilter: expressions on the event", () => {
  it.each([
    ["data.total > 100", true],
    ["data.total > 100.5", true],
    ["data.total > 150", false],
    ["data.total == 150", true],
    ["data.total >= 150u", true],
    ["data.price < 10", true],
    ["data.total + 1.0 == 151.0", true],
    ["int(data.total) + 1 == 151", true],
    ['headers["x-region"] == "eu"', true],
    ['headers["x-region"] == "us"', false],
    ['"x-region" in headers', true],
    ['"x-missing" in headers', false],
    ['subject.startsWith("shop.")', true],
    ['subject.startsWith("billing.")', false],
    ['subject.split(".")[2] == "eu"', true],
    ["has(data.customer)", true],
    ["has(data.discount)", false],
    ['data.items.exists(i, i.sku == "A")', true],
    ['data.items.exists(i, i.sku == "C")', false],
    ['data.items.all(i, i.sku != "")', true],
    ['"vip" in data.tags', true],
    ['"gold" in data.tags', false],
    ["data.note == null", true],
    ['id == "evt-1"', true],
    ['time > timestamp("2024-01-01T00:00:00Z")', true],
    ['time < timestamp("2024-05-01T10:20:30Z")', false],
    ["time.getMilliseconds() == 123", true],
    ["type(time) == google.protobuf.Timestamp", true],
    ["type(data.total) == double", true],
    ['data.total > 100 && headers["x-region"] == "eu"', true],
    ['data.total > 1000 || headers["x-region"] == "eu"', true],
  ])("%s is %s", (source, expected) => {
    expect(compile(source).evaluate(EVENT)).toEqual({ match: expected });
  });
});

describe("compileFilter: compile errors", () => {
  it.each([
    ["data.total >", /^syntax error at line 1, column 12: /],
    ["", /^syntax error at line 1, column 1: found end of input/],
    ["data.total > 100 &&\n  data.total <", /^syntax error at line 2, column 14: /],
    [
      "dat.total > 100",
      /^unknown variable "dat" at line 1, column 1 \(did you mean "data"\?\); the variables are subject, headers, data, id, time$/,
    ],
    [
      "data.total > 100 &&\n  subjct == 'x'",
      /^unknown variable "subjct" at line 2, column 3 \(did you mean "subject"\?\)/,
    ],
    ["x > 1", /^unknown variable "x" at line 1, column 1; the variables/],
    ["[1].exists(i, i > j)", /^unknown variable "j"/],
    ["foo(data.total)", /^unknown function "foo" at line 1, column/],
    ["subject.shout()", /^unknown function "shout"/],
    ["has(data)", /^has\(\) needs a field selection, like has\(data.customer\)/],
    ["dyn == dyn", /^unknown variable "dyn"/],
  ])("rejects %j", (source, error) => {
    expect(compileError(source)).toMatch(error);
  });
});

describe("compileFilter: runtime errors never throw and never match", () => {
  it.each([
    ["data.missing > 1", /missing/],
    ['headers["x-missing"] == "a"', /x-missing/],
    ["data.total + 1 > 0", /no matching overload/],
    ['data.total > "100"', /no matching overload/],
    ["data.customer.name.size() > 1 && data.tags[5] == 'x'", /index|range|5/],
    ["data.total", /must return a bool, but returned a double/],
    ["subject", /must return a bool, but returned a string/],
    ["data.tags", /must return a bool, but returned a list/],
  ])("%s", (source, error) => {
    const result = compile(source).evaluate(EVENT);
    expect(result.match).toBe(false);
    expect(result.error).toMatch(error);
  });

  it("reports missing data instead of matching when the payload was not parsed", () => {
    const { data: _data, ...withoutData } = EVENT;
    const result = compile("data.total > 100").evaluate(withoutData);
    expect(result).toEqual({ match: false, error: expect.stringMatching(/not JSON/) as unknown });
  });

  it("evaluates a filter that does not read data on an event without data", () => {
    const { data: _data, ...withoutData } = EVENT;
    expect(compile('subject.endsWith(".created")').evaluate(withoutData)).toEqual({ match: true });
  });

  it("reports an invalid event time as an error", () => {
    const result = compile('time > timestamp("2020-01-01T00:00:00Z")').evaluate({
      ...EVENT,
      time: new Date(Number.NaN),
    });
    expect(result).toEqual({ match: false, error: "event time is not a valid date" });
  });

  it("never throws, whatever JSON the payload holds", () => {
    const filter = compile('data.a.b > 1 || "x" in data.c || data.d.exists(e, e == 1) || size(data) > 3');
    fc.assert(
      fc.property(fc.jsonValue(), (data) => {
        const result = filter.evaluate({ ...EVENT, data });
        expect(typeof result.match).toBe("boolean");
        if (!result.match && result.error !== undefined) expect(result.error.length).toBeGreaterThan(0);
      }),
      { numRuns: 500 },
    );
  });

  it("compiles or explains, never throws, whatever the source", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (source) => {
        const result = compileFilter(source);
        if (!result.ok) expect(result.error.length).toBeGreaterThan(0);
      }),
      { numRuns: 500 },
    );
  });
});

describe("needsData", () => {
  it.each([
    ["data.total > 1", true],
    ["has(data.customer)", true],
    ['subject == "a" || data.x == 1', true],
    ['headers["x-region"] == "eu"', false],
    ['subject.startsWith("shop.")', false],
    // The comprehension variable named data shadows the event's data.
    ["[1, 2].exists(data, data > 1)", false],
  ])("%s needs data: %s", (source, expected) => {
    expect(compile(source).needsData).toBe(expected);
  });
});

describe("a compiled filter", () => {
  it("keeps its source and gives independent answers for different events", () => {
    const filter = compile("data.total > 100");
    expect(filter.source).toBe("data.total > 100");
    for (let i = 0; i < 50; i++) {
      expect(filter.evaluate({ ...EVENT, data: { total: 95 + i } }).match).toBe(95 + i > 100);
    }
  });
});
