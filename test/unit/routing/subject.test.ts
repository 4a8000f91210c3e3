import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import {
  MAX_SUBJECT_LENGTH,
  patternMatches,
  validatePattern,
  validateSubject,
} from "../../../src/routing/subject.js";

const VALID_SUBJECTS = [
  "a",
  "shop.orders.eu.created",
  "A-b_c.$JS.API",
  "x1.2.3",
  "ünïcode.ok",
  "a".repeat(MAX_SUBJECT_LENGTH),
];

describe("validateSubject", () => {
  it.each(VALID_SUBJECTS)("accepts %j", (subject) => {
    expect(validateSubject(subject)).toBeUndefined();
  });

  it.each([
    ["", "subject is empty"],
    ["a..b", 'token 2 is empty in "a..b"'],
    [".a", 'token 1 is empty in ".a"'],
    ["a.", 'token 2 is empty in "a."'],
    [".", 'token 1 is empty in "."'],
    ["a b", 'token 1 contains a space in "a b"'],
    ["a.b\tc", 'token 2 contains a tab (U+0009) in "a.b\\tc"'],
    ["a\nb", 'token 1 contains a line break (U+000A) in "a\\nb"'],
    ["a\u0000b", 'token 1 contains a control character (U+0000) in "a\\u0000b"'],
    ["a\u00a0b", 'token 1 contains whitespace (U+00A0) in "a\u00a0b"'],
    [
      "a.*",
      'token 2 contains a wildcard ("*" or ">"); only subscription patterns may use wildcards in "a.*"',
    ],
    [
      "a.>",
      'token 2 contains a wildcard ("*" or ">"); only subscription patterns may use wildcards in "a.>"',
    ],
    ["a*", 'token 1 contains a wildcard ("*" or ">"); only subscription patterns may use wildcards in "a*"'],
    [
      "x".repeat(MAX_SUBJECT_LENGTH + 1),
      `subject is ${MAX_SUBJECT_LENGTH + 1} characters long; the limit is 255`,
    ],
  ])("rejects %j", (subject, error) => {
    expect(validateSubject(subject)).toBe(error);
  });
});

describe("validatePattern", () => {
  it.each([...VALID_SUBJECTS, "*", ">", "a.*", "a.>", "*.b.>", "*.*.*", "a.*.c"])("accepts %j", (pattern) => {
    expect(validatePattern(pattern)).toBeUndefined();
  });

  it.each([
    ["", "pattern is empty"],
    ["a..b", 'token 2 is empty in "a..b"'],
    [">.x", 'token 1 is ">", which is only allowed as the last token in ">.x"'],
    ["a.>.b", 'token 2 is ">", which is only allowed as the last token in "a.>.b"'],
    ["a*", 'token 1 contains "*"; a wildcard must be a whole token, like "a.*.c" in "a*"'],
    ["x.*b", 'token 2 contains "*"; a wildcard must be a whole token, like "a.*.c" in "x.*b"'],
    ["a>", 'token 1 contains ">"; a wildcard must be a whole token, like "a.b.>" in "a>"'],
    ["a.b*.>", 'token 2 contains "*"; a wildcard must be a whole token, like "a.*.c" in "a.b*.>"'],
    ["a .*", 'token 1 contains a space in "a .*"'],
    ["a.\r", 'token 2 contains a line break (U+000D) in "a.\\r"'],
    ["a.", 'token 2 is empty in "a."'],
  ])("rejects %j", (pattern, error) => {
    expect(validatePattern(pattern)).toBe(error);
  });

  it("rejects a pattern one character over the limit", () => {
    expect(validatePattern("a.".repeat(128))).toMatch(/256 characters long/);
  });
});

describe("patternMatches", () => {
  it.each([
    ["a.b.c", "a.b.c", true],
    ["a.b.c", "a.b", false],
    ["a.b", "a.b.c", false],
    ["a.*.c", "a.b.c", true],
    ["a.*.c", "a.b.d", false],
    ["a.*", "a", false],
    ["*", "a", true],
    ["*", "a.b", false],
    ["a.>", "a.b", true],
    ["a.>", "a.b.c.d", true],
    ["a.>", "a", false],
    [">", "a", true],
    [">", "a.b.c", true],
    ["*.>", "a", false],
    ["*.>", "a.b", true],
    ["b.>", "a.b", false],
  ])("%j vs %j is %j", (pattern, subject, expected) => {
    expect(patternMatches(pattern, subject)).toBe(expected);
  });
});

describe("validation properties", () => {
  const tricky = fc
    .array(fc.constantFrom("a", "b", ".", "*", ">", " ", "\t", "\n", "é", "\u0000"), { maxLength: 12 })
    .map((chars) => chars.join(""));
  const anyString = fc.oneof(
    fc.string(),
    fc.string({ unit: "binary" }),
    tricky,
    fc.string({ maxLength: 400 }),
  );

  it("never throws, and every valid subject is also a valid pattern", () => {
    fc.assert(
      fc.property(anyString, (text) => {
        const subjectError = validateSubject(text);
        const patternError = validatePattern(text);
        if (subjectError === undefined) expect(patternError).toBeUndefined();
      }),
      { numRuns: 2000 },
    );
  });

  it("accepts exactly the strings made of non-empty, wildcard-free, space-free tokens", () => {
    fc.assert(
      fc.property(tricky, (text) => {
        const ok = text
          .split(".")
          .every(
            (token) => token.length > 0 && !/[*>\s]/.test(token) && !token.includes(String.fromCharCode(0)),
          );
        expect(validateSubject(text) === undefined).toBe(ok);
      }),
      { numRuns: 2000 },
    );
  });

  it("a valid subject matches itself used as a pattern", () => {
    const subject = fc
      .array(fc.constantFrom("a", "b", "orders"), { minLength: 1, maxLength: 5 })
      .map((t) => t.join("."));
    fc.assert(
      fc.property(subject, (s) => {
        expect(validateSubject(s)).toBeUndefined();
        expect(patternMatches(s, s)).toBe(true);
      }),
    );
  });
});
