import { randomBytes } from "node:crypto";
import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { Webhook } from "standardwebhooks";
import {
  generateSecret,
  parseSecret,
  verifyWebhook,
  webhookHeaders,
  webhookSignature,
} from "../../../src/signing/index.js";

const keyArb = fc.uint8Array({ minLength: 24, maxLength: 64 }).map((bytes) => Buffer.from(bytes));
const idArb = fc.stringMatching(/^[A-Za-z0-9_-]{1,128}$/);
const bodyArb = fc.uint8Array({ maxLength: 2048 });
// Any instant from 1970 to the year ~2200, in whole seconds.
const secondsArb = fc.integer({ min: 0, max: 7_300_000_000 });

function headersAt(keys: Buffer[], id: string, seconds: number, body: Uint8Array): Record<string, string> {
  return { ...webhookHeaders(keys, id, new Date(seconds * 1000), body) };
}

describe("verifyWebhook", () => {
  it("accepts what we sign, for any key, id, time and body bytes", () => {
    fc.assert(
      fc.property(keyArb, idArb, secondsArb, bodyArb, (key, id, seconds, body) => {
        const headers = headersAt([key], id, seconds, body);
        expect(verifyWebhook([key], headers, body, new Date(seconds * 1000))).toEqual({ ok: true });
      }),
    );
  });

  it("rejects any body with one byte changed", () => {
    const arb = fc
      .tuple(keyArb, idArb, secondsArb, fc.uint8Array({ minLength: 1, maxLength: 2048 }))
      .chain(([key, id, seconds, body]) =>
        fc.tuple(
          fc.constant({ key, id, seconds, body }),
          fc.nat({ max: body.length - 1 }),
          fc.integer({ min: 1, max: 255 }),
        ),
      );
    fc.assert(
      fc.property(arb, ([{ key, id, seconds, body }, index, flip]) => {
        const headers = headersAt([key], id, seconds, body);
        const tampered = Uint8Array.from(body);
        tampered[index] = (tampered[index] ?? 0) ^ flip;
        const result = verifyWebhook([key], headers, tampered, new Date(seconds * 1000));
        expect(result).toEqual({ ok: false, error: "no signature in webhook-signature matches" });
      }),
    );
  });

  it("rejects a changed timestamp, even one within the tolerance", () => {
    const shift = fc.integer({ min: -300, max: 300 }).filter((s) => s !== 0);
    fc.assert(
      fc.property(
        keyArb,
        idArb,
        fc.integer({ min: 300, max: 7_300_000_000 }),
        bodyArb,
        shift,
        (key, id, seconds, body, delta) => {
          const headers = headersAt([key], id, seconds, body);
          headers["webhook-timestamp"] = String(seconds + delta);
          const result = verifyWebhook([key], headers, body, new Date(seconds * 1000));
          expect(result).toEqual({ ok: false, error: "no signature in webhook-signature matches" });
        },
      ),
    );
  });

  it("rejects a changed id", () => {
    fc.assert(
      fc.property(keyArb, idArb, idArb, bodyArb, (key, id, other, body) => {
        fc.pre(id !== other);
        const headers = headersAt([key], id, 1000, body);
        headers["webhook-id"] = other;
        expect(verifyWebhook([key], headers, body, new Date(1_000_000)).ok).toBe(false);
      }),
    );
  });

  it("accepts with either key of a rotation, and rejects an unrelated key", () => {
    fc.assert(
      fc.property(keyArb, keyArb, keyArb, bodyArb, (current, previous, stranger, body) => {
        fc.pre(!stranger.equals(current) && !stranger.equals(previous));
        const headers = headersAt([current, previous], "evt_S_9", 1000, body);
        const now = new Date(1_000_000);
        expect(verifyWebhook([current], headers, body, now)).toEqual({ ok: true });
        expect(verifyWebhook([previous], headers, body, now)).toEqual({ ok: true });
        expect(verifyWebhook([stranger, previous], headers, body, now)).toEqual({ ok: true });
        expect(verifyWebhook([stranger], headers, body, now).ok).toBe(false);
      }),
    );
  });

  describe("timestamp tolerance", () => {
    const key = randomBytes(32);
    const body = Buffer.from("{}");
    const headers = headersAt([key], "id", 10_000, body);
    const at = (seconds: number): Date => new Date(seconds * 1000);

    it("accepts up to the tolerance either way", () => {
      expect(verifyWebhook([key], headers, body, at(10_300))).toEqual({ ok: true });
      expect(verifyWebhook([key], headers, body, at(9_700))).toEqual({ ok: true });
      expect(verifyWebhook([key], headers, body, at(10_060), 60)).toEqual({ ok: true });
    });

    it("rejects beyond it, saying which way", () => {
      expect(verifyWebhook([key], headers, body, at(10_301))).toEqual({
        ok: false,
        error: "webhook-timestamp is 301 s in the past, beyond the 300 s tolerance",
      });
      expect(verifyWebhook([key], headers, body, at(9_699))).toEqual({
        ok: false,
        error: "webhook-timestamp is 301 s in the future, beyond the 300 s tolerance",
      });
      expect(verifyWebhook([key], headers, body, at(10_061), 60).ok).toBe(false);
    });

    it.each(["", "abc", "12abc", " 10000", "10000.0", "-10000", "1e4"])(
      "rejects the timestamp %j",
      (value) => {
        const result = verifyWebhook([key], { ...headers, "webhook-timestamp": value }, body, at(10_000));
        expect(result.ok).toBe(false);
      },
    );
  });

  describe("signature header", () => {
    const key = randomBytes(32);
    const body = Buffer.from("{}");
    const now = new Date(10_000_000);
    const headers = headersAt([key], "id", 10_000, body);
    const good = headers["webhook-signature"]!;

    it("skips unknown versions and finds v1 among several signatures", () => {
      const mixed = `v1a,${good.slice(3)} v2,abc v1,${randomBytes(32).toString("base64")}  junk ${good}`;
      expect(verifyWebhook([key], { ...headers, "webhook-signature": mixed }, body, now)).toEqual({
        ok: true,
      });
    });

    it("does not take a matching signature under another version for v1", () => {
      const result = verifyWebhook(
        [key],
        { ...headers, "webhook-signature": `v1a,${good.slice(3)}` },
        body,
        now,
      );
      expect(result).toEqual({ ok: false, error: "webhook-signature has no v1 signature" });
    });

    it.each([
      ["a truncated signature", good.slice(0, -2)],
      ["a signature with a trailing character", `${good}A`],
      ["an empty v1 signature", "v1,"],
      ["a non-ASCII look-alike", `${good.slice(0, -1)}\u013d`],
    ])("rejects %s", (_name, signature) => {
      const result = verifyWebhook([key], { ...headers, "webhook-signature": signature }, body, now);
      expect(result).toEqual({ ok: false, error: "no signature in webhook-signature matches" });
    });

    it("reads header names in any case", () => {
      const shouting = {
        "Webhook-Id": headers["webhook-id"]!,
        "WEBHOOK-TIMESTAMP": headers["webhook-timestamp"]!,
        "webhook-Signature": good,
      };
      expect(verifyWebhook([key], shouting, body, now)).toEqual({ ok: true });
    });

    it("accepts node's header shape, with single values in arrays", () => {
      const nodeHeaders = { ...headers, "webhook-signature": [good], "content-type": undefined };
      expect(verifyWebhook([key], nodeHeaders, body, now)).toEqual({ ok: true });
    });

    it.each(["webhook-id", "webhook-timestamp", "webhook-signature"])("reports a missing %s", (name) => {
      const partial: Record<string, string> = { ...headers };
      delete partial[name];
      expect(verifyWebhook([key], partial, body, now)).toEqual({
        ok: false,
        error: `missing ${name} header`,
      });
    });

    it("refuses a header given twice", () => {
      const twice = { ...headers, "Webhook-Id": "other" };
      expect(verifyWebhook([key], twice, body, now)).toEqual({
        ok: false,
        error: "webhook-id header appears more than once",
      });
      const array = { ...headers, "webhook-signature": [good, good] };
      expect(verifyWebhook([key], array, body, now).ok).toBe(false);
    });

    it("refuses to verify without keys", () => {
      expect(verifyWebhook([], headers, body, now)).toEqual({
        ok: false,
        error: "no verification key configured",
      });
    });
  });

  it("accepts what the standardwebhooks library signs", () => {
    const secret = generateSecret();
    const parsed = parseSecret(secret);
    if (!parsed.ok) throw new Error(parsed.error);
    const body = Buffer.from('{"hello":"world"}');
    const sentAt = new Date(1_700_000_000_000);
    const signature = new Webhook(secret).sign("msg_2Lh9KRb0pzN4LePd3XiA4xdEwZc", sentAt, body);
    const headers = {
      "webhook-id": "msg_2Lh9KRb0pzN4LePd3XiA4xdEwZc",
      "webhook-timestamp": "1700000000",
      "webhook-signature": signature,
    };
    expect(verifyWebhook([parsed.key], headers, body, sentAt)).toEqual({ ok: true });
    expect(webhookSignature([parsed.key], headers["webhook-id"], 1_700_000_000, body)).toBe(signature);
  });
});
