import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { patternMatches } from "../../../src/routing/subject.js";
import { type PatternEntry, SubjectIndex } from "../../../src/routing/subject-index.js";

const sorted = (values: readonly string[]): string[] => [...values].sort();

describe("SubjectIndex", () => {
  const index = new SubjectIndex([
    { pattern: "shop.orders.created", value: "exact" },
    { pattern: "shop.*.created", value: "star" },
    { pattern: "shop.>", value: "tail" },
    { pattern: ">", value: "all" },
    { pattern: "*", value: "one" },
    { pattern: "shop.orders.*", value: "twice" },
    { pattern: "shop.*.created", value: "twice" },
  ]);

  it.each([
    ["shop.orders.created", ["all", "exact", "star", "tail", "twice"]],
    ["shop.refunds.created", ["all", "star", "tail", "twice"]],
    ["shop.orders.paid", ["all", "tail", "twice"]],
    ["shop.orders", ["all", "tail"]],
    ["shop", ["all", "one"]],
    ["billing.invoices.created", ["all"]],
    ["shop.orders.created.late", ["all", "tail"]],
  ])("matches %j to %j", (subject, expected) => {
    expect(sorted(index.match(subject))).toEqual(expected);
  });

  it("lists a value once even when several of its patterns match", () => {
    const result = index.match("shop.orders.created");
    expect(result.filter((value) => value === "twice")).toHaveLength(1);
  });

  it("answers repeated lookups from its cache", () => {
    const first = index.match("shop.orders.paid");
    expect(index.match("shop.orders.paid")).toBe(first);
  });

  it("computes a new answer per lookup when the cache is off", () => {
    const uncached = new SubjectIndex(
      [
        { pattern: "a.*", value: 1 },
        { pattern: "a.>", value: 2 },
      ],
      { cacheSize: 0 },
    );
    const first = uncached.match("a.b");
    expect(uncached.match("a.b")).not.toBe(first);
    expect(uncached.match("a.b")).toEqual(first);
  });

  it("dedupes large results too", () => {
    const values = Array.from({ length: 40 }, (_, i) => i);
    const wide = new SubjectIndex(
      values.flatMap((value) => ["x.*", "x.>", "x.y", "*.y"].map((pattern) => ({ pattern, value }))),
    );
    expect([...wide.match("x.y")].sort((a, b) => a - b)).toEqual(values);
  });

  it("matches nothing in an empty index", () => {
    expect(new SubjectIndex<string>([]).match("a.b")).toEqual([]);
  });

  it("does not let '>' match zero tokens", () => {
    const tailOnly = new SubjectIndex([{ pattern: "a.>", value: 1 }]);
    expect(tailOnly.match("a")).toEqual([]);
    expect(tailOnly.match("a.b.c")).toEqual([1]);
  });

  it("dedupes by identity, so equal-looking objects stay distinct", () => {
    const a = { id: "x" };
    const b = { id: "x" };
    const objects = new SubjectIndex([
      { pattern: "k.*", value: a },
      { pattern: "k.v", value: a },
      { pattern: "k.>", value: b },
    ]);
    const result = objects.match("k.v");
    expect(result).toHaveLength(2);
    expect(result).toContain(a);
    expect(result).toContain(b);
  });

  it("is unaffected by later changes to the input array", () => {
    const entries: PatternEntry<string>[] = [{ pattern: "a", value: "first" }];
    const built = new SubjectIndex(entries, { cacheSize: 0 });
    entries.push({ pattern: "a", value: "late" });
    expect(built.match("a")).toEqual(["first"]);
  });
});

describe("SubjectIndex agrees with the naive patternMatches", () => {
  // A small alphabet so that random patterns and subjects actually match each other.
  const token = fc.constantFrom("a", "b", "c");
  const subject = fc.array(token, { minLength: 1, maxLength: 5 }).map((tokens) => tokens.join("."));
  const pattern = fc
    .tuple(fc.array(fc.oneof(token, fc.constant("*")), { minLength: 0, maxLength: 4 }), fc.boolean())
    .filter(([tokens, tail]) => tokens.length > 0 || tail)
    .map(([tokens, tail]) => [...tokens, ...(tail ? [">"] : [])].join("."));
  // Values drawn from a small range so that one value often owns several patterns.
  const entries = fc.array(fc.record({ pattern, value: fc.integer({ min: 0, max: 15 }) }), { maxLength: 40 });

  it.each([0, 3, 8192])("with cacheSize %d", (cacheSize) => {
    fc.assert(
      fc.property(entries, fc.array(subject, { minLength: 1, maxLength: 20 }), (list, subjects) => {
        const index = new SubjectIndex(list, { cacheSize });
        // Twice, so that the second pass answers from the cache when there is one.
        for (const s of [...subjects, ...subjects]) {
          const expected = new Set(list.filter((e) => patternMatches(e.pattern, s)).map((e) => e.value));
          const actual = index.match(s);
          expect(actual.length).toBe(new Set(actual).size);
          expect([...actual].sort((x, y) => x - y)).toEqual([...expected].sort((x, y) => x - y));
        }
      }),
      { numRuns: 300 },
    );
  });
});
