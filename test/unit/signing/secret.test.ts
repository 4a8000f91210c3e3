import { randomBytes } from "node:crypto";
import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { generateSecret, parseSecret } from "../../../src/signing/index.js";

// Deterministic, so the table below names the same cases on every run.
const fixedBytes = (size: number): Buffer =>
  Buffer.from(Array.from({ length: size }, (_, i) => (i * 37 + 11) % 256));
const secretOf = (key: Buffer): string => `whsec_${key.toString("base64")}`;

describe("parseSecret", () => {
  it("decodes the key after whsec_", () => {
    const key = randomBytes(32);
    const parsed = parseSecret(secretOf(key));
    expect(parsed).toEqual({ ok: true, key });
  });

  it.each([24, 25, 32, 63, 64])("accepts a %d-byte key", (size) => {
    const parsed = parseSecret(secretOf(randomBytes(size)));
    expect(parsed.ok).toBe(true);
  });

  it("ignores surrounding whitespace such as the newline echo leaves", () => {
    const key = randomBytes(32);
    expect(parseSecret(` ${secretOf(key)}\n`)).toEqual({ ok: true, key });
  });

  it.each([
    ["", /empty/],
    ["   \n", /empty/],
    ["whsec_", /nothing after/],
    [fixedBytes(32).toString("base64"), /does not start with "whsec_"/],
    ["WHSEC_" + fixedBytes(32).toString("base64"), /does not start with "whsec_"/],
    [`whsec_${fixedBytes(16).toString("base64")}`, /key is 16 bytes; .* 24 to 64 bytes/],
    [`whsec_${fixedBytes(23).toString("base64")}`, /key is 23 bytes/],
    [`whsec_${fixedBytes(65).toString("base64")}`, /key is 65 bytes/],
    [`whsec_${fixedBytes(67).toString("base64")}`, /too long/],
    [`whsec_${fixedBytes(32).toString("base64url")}`, /URL-safe|multiple of 4/],
    [`whsec_${"A".repeat(42)}-_`, /URL-safe alphabet/],
    [`whsec_${"A".repeat(43)}`, /not a multiple of 4/],
    [`whsec_${"A".repeat(20)}!${"A".repeat(23)}`, /offset 20 .* outside the base64 alphabet/],
    [`whsec_${"A".repeat(20)} ${"A".repeat(23)}`, /offset 20/],
    [`whsec_${"A".repeat(20)}=${"A".repeat(23)}`, /padding '=' at offset 20/],
    [`whsec_${"A".repeat(41)}===`, /padding/],
    // 32 bytes end in "=" with two unused bits; "B" sets one of them.
    [`whsec_${"A".repeat(42)}B=`, /stray bits/],
  ])("rejects %j with a precise error", (text, message) => {
    const parsed = parseSecret(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toMatch(message);
  });

  it("never throws and never quotes the secret, whatever the text", () => {
    const material = fc.oneof(
      fc.string({ minLength: 8, maxLength: 120 }),
      fc.string({ minLength: 8, maxLength: 120, unit: "binary" }),
      fc.stringMatching(/^[A-Za-z0-9+/=_\-!. ]{8,100}$/),
      fc.uint8Array({ minLength: 6, maxLength: 80 }).map((bytes) => Buffer.from(bytes).toString("base64")),
    );
    fc.assert(
      fc.property(fc.constantFrom("", "whsec_", " whsec_"), material, (prefix, body) => {
        const parsed = parseSecret(prefix + body);
        if (parsed.ok) return;
        expect(parsed.error).not.toContain(body);
        expect(parsed.error).not.toContain(body.trim());
        // Not even a fragment: no 8 consecutive characters of the secret appear.
        const trimmed = body.trim();
        for (let i = 0; i + 8 <= trimmed.length; i++) {
          expect(parsed.error).not.toContain(trimmed.slice(i, i + 8));
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe("generateSecret", () => {
  it("makes distinct secrets that parse to 32-byte keys", () => {
    const a = generateSecret();
    const b = generateSecret();
    expect(a).not.toBe(b);
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const parsed = parseSecret(a);
    expect(parsed.ok && parsed.key.length).toBe(32);
  });
});
