import { describe, expect, it } from "@jest/globals";
import { celEnv, parse } from "@bufbuild/cel";
import { checkNames, describeOffset } from "../../../src/routing/filter-check.js";

const env = celEnv();
const declared = ["subject", "data"];
const check = (source: string) => checkNames(source, parse(source), env, declared);

describe("checkNames", () => {
  it("lists the declared variables an expression reads", () => {
    expect([...check('data.a > 1 && subject == "x" && data.b').variables].sort()).toEqual([
      "data",
      "subject",
    ]);
  });

  it("does not count comprehension variables as reads", () => {
    expect([...check("[1].exists(subject, subject > 0)").variables]).toEqual([]);
  });

  it("still sees variables used in a comprehension's range", () => {
    expect([...check("data.items.map(i, i.x).size() > 0").variables]).toEqual(["data"]);
  });

  it("accepts type names and message names", () => {
    expect(check("type(data) == map || type(subject) == google.protobuf.Timestamp").error).toBeUndefined();
  });

  it("rejects a misspelt message name", () => {
    expect(check("type(subject) == google.protobuf.Timestmp").error).toMatch(/unknown variable "google"/);
  });

  it("reports the first problem", () => {
    expect(check("a + b").error).toMatch(/^unknown variable "a"/);
  });
});

describe("describeOffset", () => {
  it.each([
    [0, "at line 1, column 1"],
    [3, "at line 1, column 4"],
    [4, "at line 2, column 1"],
    [6, "at line 2, column 3"],
  ])("offset %d is %s", (offset, expected) => {
    expect(describeOffset("abc\ndef", offset)).toBe(expected);
  });
});
