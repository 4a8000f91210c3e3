import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { ALLOW_ALL, disallowedPatterns, parsePolicy, patternCovers } from "../../../src/controller/policy.js";

/** Reference semantics: does a NATS pattern match a concrete subject? */
function matches(pattern: string, subject: string): boolean {
  const p = pattern.split(".");
  const s = subject.split(".");
  for (let i = 0; i < p.length; i++) {
    if (p[i] === ">") return s.length > i;
    if (i >= s.length) return false;
    if (p[i] !== "*" && p[i] !== s[i]) return false;
  }
  return p.length === s.length;
}

describe("patternCovers", () => {
  it.each([
    ["shop.>", "shop.orders.created", true],
    ["shop.>", "shop.orders.*", true],
    ["shop.>", "shop.>", true],
    ["shop.>", "shop", false],
    ["shop.>", ">", false],
    ["shop.*", "shop.orders", true],
    ["shop.*", "shop.*", true],
    ["shop.*", "shop.>", false],
    ["shop.*", "shop.orders.created", false],
    ["shop.orders", "shop.*", false],
    [">", "anything.at.all", true],
    ["a.*.c", "a.b.c", true],
    ["a.*.c", "a.*.d", false],
  ])("%s covers %s: %s", (allowed, pattern, want) => {
    expect(patternCovers(allowed, pattern)).toBe(want);
  });

  it("agrees with matching: if allowed covers pattern, every subject of pattern matches allowed", () => {
    const token = fc.constantFrom("a", "b", "c");
    const patternTok = fc.constantFrom("a", "b", "*");
    const pattern = fc
      .tuple(fc.array(patternTok, { minLength: 1, maxLength: 4 }), fc.boolean())
      .map(([t, tail]) => [...t, ...(tail ? [">"] : [])].join("."));
    const subject = fc.array(token, { minLength: 1, maxLength: 6 }).map((t) => t.join("."));
    fc.assert(
      fc.property(pattern, pattern, subject, (allowed, p, s) => {
        if (patternCovers(allowed, p) && matches(p, s)) expect(matches(allowed, s)).toBe(true);
      }),
      { numRuns: 5000 },
    );
  });
});

describe("parsePolicy", () => {
  const policy = parsePolicy(`
namespaces:
  shop: ["shop.>"]
  billing: ["billing.>", "shop.orders.*.paid"]
default: []
`);

  it("allows what a namespace's patterns cover and nothing else", () => {
    expect(disallowedPatterns(policy, "shop", ["shop.orders.created", "shop.>"])).toEqual([]);
    expect(disallowedPatterns(policy, "shop", ["billing.x", "shop.a"])).toEqual(["billing.x"]);
    expect(disallowedPatterns(policy, "billing", ["shop.orders.1.paid", "shop.orders.1.created"])).toEqual([
      "shop.orders.1.created",
    ]);
  });

  it("applies the default to namespaces not listed", () => {
    expect(disallowedPatterns(policy, "other", ["a"])).toEqual(["a"]);
    expect(disallowedPatterns(parsePolicy("namespaces: {}"), "other", ["a"])).toEqual([]);
  });

  it("allows everything without a policy", () => {
    expect(disallowedPatterns(ALLOW_ALL, "x", [">"])).toEqual([]);
  });

  it.each([
    ["- a", /mapping/],
    ["namespaces: {shop: shop.>}", /namespaces\.shop must be a list/],
    ["namespaces: {shop: ['a..b']}", /token 2 is empty/],
    ["namespaces: {shop: ['>.a']}", /">" may only be the last/],
    ["namespace: {}", /unknown key\(s\) namespace/],
    ["default: [a*]", /wildcards must be whole tokens/],
    ["{", /not YAML/],
  ])("rejects %j", (text, err) => {
    expect(() => parsePolicy(text)).toThrow(err);
  });
});
