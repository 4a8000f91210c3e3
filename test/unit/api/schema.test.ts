import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { DEFAULT_RETRY_SCHEDULE, RESERVED_HEADERS } from "../../../src/api/defaults.js";
import { parseDuration } from "../../../src/api/duration.js";
import {
  DNS1123_SUBDOMAIN_REGEX,
  DURATION_REGEX,
  HEADER_NAME_REGEX,
  PLAIN_SUBJECT_REGEX,
  SUBJECT_PATTERN_REGEX,
  printerColumns,
  webhookSubscriptionCrd,
  webhookSubscriptionSchema,
  type JSONSchemaProps,
} from "../../../src/api/schema.js";
import { MAX_SUBJECT_LENGTH, validatePattern, validateSubject } from "../../../src/routing/index.js";

/** Every schema node with its path ("[]" for array items, "{}" for map values). */
function nodes(schema: JSONSchemaProps, path = ""): [string, JSONSchemaProps][] {
  const out: [string, JSONSchemaProps][] = [[path, schema]];
  for (const [key, sub] of Object.entries(schema.properties ?? {}))
    out.push(...nodes(sub, path === "" ? key : `${path}.${key}`));
  if (schema.items) out.push(...nodes(schema.items, `${path}[]`));
  if (schema.additionalProperties) out.push(...nodes(schema.additionalProperties, `${path}{}`));
  return out;
}

const all = nodes(webhookSubscriptionSchema);
const at = (path: string): JSONSchemaProps => {
  const found = all.find(([p]) => p === path);
  if (!found) throw new Error(`no schema node at ${path}`);
  return found[1];
};

/** The schema's RE2 regular expressions, as JavaScript ones (the only RE2-only syntax used is \x{...}). */
const js = (re2: string) => new RegExp(re2.replace(/\\x\{([0-9A-Fa-f]+)\}/g, "\\u{$1}"), "u");

describe("CRD schema", () => {
  it("is structural: every node has a type, and only metadata is left open", () => {
    expect(all.filter(([, s]) => s.type === undefined).map(([p]) => p)).toEqual([]);
    expect(all.filter(([, s]) => s["x-kubernetes-preserve-unknown-fields"]).map(([p]) => p)).toEqual([]);
    const open = all.filter(([, s]) => s.type === "object" && !s.properties && !s.additionalProperties);
    expect(open.map(([p]) => p)).toEqual(["metadata"]);
  });

  it("describes every field (what kubectl explain shows)", () => {
    const undocumented = all.filter(([p, s]) => p !== "metadata" && !s.description?.trim()).map(([p]) => p);
    expect(undocumented).toEqual([]);
  });

  it("states each default in the description", () => {
    const defaulted = all.filter(([, s]) => s.default !== undefined && !(typeof s.default === "object"));
    expect(defaulted.length).toBeGreaterThanOrEqual(8);
    for (const [path, s] of defaulted) {
      expect({ path, mentions: s.description?.includes(String(s.default)) }).toEqual({
        path,
        mentions: true,
      });
    }
    expect(at("spec.delivery.retry.schedule").description).toContain(DEFAULT_RETRY_SCHEDULE.join(", "));
  });

  it("bounds every string, list and map in spec (the API server's CEL cost budget depends on it)", () => {
    const unbounded = all
      .filter(([p]) => p.startsWith("spec"))
      .filter(
        ([, s]) =>
          (s.type === "string" && s.maxLength === undefined && !s.enum && s.format !== "date-time") ||
          (s.type === "array" && s.maxItems === undefined) ||
          (s.type === "object" && s.additionalProperties !== undefined && s.maxProperties === undefined),
      )
      .map(([p]) => p);
    expect(unbounded).toEqual([]);
  });

  it("gives every CEL rule a message", () => {
    const rules = all.flatMap(([p, s]) => (s["x-kubernetes-validations"] ?? []).map((r) => ({ p, ...r })));
    expect(rules.length).toBeGreaterThanOrEqual(15);
    for (const r of rules) expect(r.message ?? r.messageExpression).toBeTruthy();
  });

  it("makes the parents of defaulted fields default to {} so a minimal manifest gets every default", () => {
    expect(at("spec.delivery").default).toEqual({});
    expect(at("spec.delivery.retry").default).toEqual({});
    expect(at("spec.delivery.circuitBreaker").default).toEqual({});
    expect(at("spec.delivery.rateLimit").default).toBeUndefined();
  });

  it("has the names, scope, subresource and printer columns of the design", () => {
    const { spec } = webhookSubscriptionCrd;
    expect(webhookSubscriptionCrd.metadata.name).toBe("webhooksubscriptions.hookstream.io");
    expect(spec.names).toEqual({
      kind: "WebhookSubscription",
      listKind: "WebhookSubscriptionList",
      plural: "webhooksubscriptions",
      singular: "webhooksubscription",
      shortNames: ["whs"],
      categories: ["hookstream"],
    });
    expect(spec.scope).toBe("Namespaced");
    expect(spec.versions.map((v) => [v.name, v.served, v.storage, v.subresources])).toEqual([
      ["v1alpha1", true, true, { status: {} }],
    ]);
    expect(printerColumns.map((c) => [c.name, c.type])).toEqual([
      ["Ready", "string"],
      ["Reason", "string"],
      ["Endpoint", "string"],
      ["Succeeded", "integer"],
      ["Failed", "integer"],
      ["Last Code", "integer"],
      ["Age", "date"],
    ]);
  });
});

describe("subject regular expressions", () => {
  const pattern = js(SUBJECT_PATTERN_REGEX);
  const plain = js(PLAIN_SUBJECT_REGEX);

  it.each([
    ["shop.orders.created", true, true],
    ["shop.orders.*.paid", true, false],
    ["shop.refunds.>", true, false],
    [">", true, false],
    ["*", true, false],
    ["*.>", true, false],
    ["bestellungen.é.😀", true, true],
    ["a..b", false, false],
    [">.x", false, false],
    ["a.>.b", false, false],
    ["a b", false, false],
    ["a\u00a0b", false, false],
    ["a\ufeffb", false, false],
    ["a\u0000b", false, false],
    ["*a", false, false],
    ["a>", false, false],
    [".a", false, false],
    ["a.", false, false],
    ["", false, false],
  ])("%j: pattern %s, subject %s", (text, isPattern, isSubject) => {
    expect(pattern.test(text)).toBe(isPattern);
    expect(plain.test(text)).toBe(isSubject);
  });

  it("agree with the routing package's validators", () => {
    const unit = fc.constantFrom(
      "a",
      "b",
      "é",
      ".",
      "*",
      ">",
      " ",
      "\t",
      "\n",
      "\u00a0",
      "\u2028",
      "\ufeff",
      "\u0007",
    );
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 12 }), (text) => {
        expect(pattern.test(text)).toBe(validatePattern(text) === undefined);
        expect(plain.test(text)).toBe(validateSubject(text) === undefined);
      }),
      { numRuns: 2000 },
    );
  });

  it("leave the length to maxLength, which matches the routing limit", () => {
    expect(at("spec.subjects[]").maxLength).toBe(MAX_SUBJECT_LENGTH);
    expect(at("spec.delivery.deadLetterSubject").maxLength).toBe(MAX_SUBJECT_LENGTH);
  });
});

describe("other regular expressions", () => {
  it("durations: the schema's pattern accepts exactly what parseDuration reads", () => {
    const re = js(DURATION_REGEX);
    const unit = fc.constantFrom("1", "0", "5", ".", "m", "s", "h", "ms", " ", "d", "-");
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 8 }), (text) => {
        expect(re.test(text)).toBe(parseDuration(text) !== undefined);
      }),
      { numRuns: 2000 },
    );
  });

  it.each([
    ["X-Team", true],
    ["x_custom.id~1", true],
    ["bad name", false],
    ["bad:name", false],
    ["", false],
    ["é", false],
  ])("header name %j: %s", (name, ok) => {
    expect(js(HEADER_NAME_REGEX).test(name)).toBe(ok);
  });

  it.each([
    ["orders-webhook", true],
    ["a.b-c", true],
    ["Orders", false],
    ["-a", false],
    ["a_b", false],
  ])("Secret name %j: %s", (name, ok) => {
    expect(js(DNS1123_SUBDOMAIN_REGEX).test(name)).toBe(ok);
  });

  it("reserves the headers hookstream sets and authorization, in lower case", () => {
    for (const h of ["webhook-id", "webhook-timestamp", "webhook-signature", "hookstream-subject"])
      expect(RESERVED_HEADERS).toContain(h);
    expect(RESERVED_HEADERS).toContain("hookstream-subscription");
    expect(RESERVED_HEADERS).toContain("authorization");
    expect(RESERVED_HEADERS.every((h) => h === h.toLowerCase() && js(HEADER_NAME_REGEX).test(h))).toBe(true);
  });
});
