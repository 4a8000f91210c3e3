import { createHmac, randomBytes } from "node:crypto";
import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { Webhook } from "standardwebhooks";
import {
  generateSecret,
  parseSecret,
  SigningKeys,
  webhookHeaders,
  webhookSignature,
} from "../../../src/signing/index.js";

function keyOf(secret: string): Buffer {
  const parsed = parseSecret(secret);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.key;
}

// Published Standard Webhooks / Svix test vector.
const VECTOR = {
  secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
};

describe("webhookSignature: known answers", () => {
  it("matches the published test vector", () => {
    const signature = webhookSignature(
      [keyOf(VECTOR.secret)],
      VECTOR.id,
      VECTOR.timestamp,
      Buffer.from(VECTOR.body),
    );
    expect(signature).toBe(VECTOR.signature);
  });

  it("matches an HMAC computed independently, and standardwebhooks' own sign", () => {
    const key = Buffer.from("hookstream-known-answer-key-32-b", "ascii");
    const id = "evt_ORDERS_42";
    const timestamp = 1_700_000_000;
    const body = Buffer.from('{"order":42,"total":"99.50","note":"caf\u00e9"}', "utf8");

    const expected =
      "v1," +
      createHmac("sha256", key)
        .update(Buffer.concat([Buffer.from(`${id}.${timestamp}.`, "ascii"), body]))
        .digest("base64");
    expect(webhookSignature([key], id, timestamp, body)).toBe(expected);

    const theirs = new Webhook(`whsec_${key.toString("base64")}`).sign(id, new Date(timestamp * 1000), body);
    expect(webhookSignature([key], id, timestamp, body)).toBe(theirs);
  });

  it("signs the exact body bytes, even when they are not UTF-8", () => {
    const key = randomBytes(32);
    const body = Uint8Array.from([0xff, 0xfe, 0x00, 0xc3, 0x28, 0x80]);
    const expected = createHmac("sha256", key).update("id1.5.").update(body).digest("base64");
    expect(webhookSignature([key], "id1", 5, body)).toBe(`v1,${expected}`);
    // Decoding and re-encoding the body would have signed different bytes.
    const reencoded = Buffer.from(Buffer.from(body).toString("utf8"), "utf8");
    expect(webhookSignature([key], "id1", 5, reencoded)).not.toBe(`v1,${expected}`);
  });

  it("gives one signature per key, in order, space separated", () => {
    const [a, b] = [randomBytes(32), randomBytes(24)];
    const body = Buffer.from("{}");
    const both = webhookSignature([a, b], "x", 10, body);
    expect(both).toBe(`${webhookSignature([a], "x", 10, body)} ${webhookSignature([b], "x", 10, body)}`);
  });

  it("signs a body that is a view into a larger buffer by its own bytes only", () => {
    const key = randomBytes(32);
    const backing = Buffer.from('xxxx{"a":1}yyyy');
    const view = backing.subarray(4, 11);
    expect(webhookSignature([key], "v", 1, view)).toBe(
      webhookSignature([key], "v", 1, Buffer.from('{"a":1}')),
    );
  });
});

describe("webhookSignature: refusals", () => {
  const key = randomBytes(32);
  const body = Buffer.from("{}");

  it("refuses to produce an empty signature header", () => {
    expect(() => webhookSignature([], "id", 1, body)).toThrow(/no signing key/);
  });

  it.each(["", "order.123", "a b", "é", "x".repeat(129)])("refuses the id %j", (id) => {
    expect(() => webhookSignature([key], id, 1, body)).toThrow(/not a valid webhook-id/);
  });

  it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])("refuses the timestamp %d", (timestamp) => {
    expect(() => webhookSignature([key], "id", timestamp, body)).toThrow(/whole Unix seconds/);
  });
});

describe("the standardwebhooks library accepts what we send", () => {
  const idArb = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/);
  // standardwebhooks turns a Buffer payload into a string before signing, so it can only
  // check bodies that are valid UTF-8; our own verifier covers arbitrary bytes.
  const bodyArb = fc.string({ unit: "binary", maxLength: 300 }).map((text) => Buffer.from(text, "utf8"));

  it("for any id and UTF-8 body", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 24, maxLength: 64 }), idArb, bodyArb, (rawKey, id, body) => {
        const key = Buffer.from(rawKey);
        const headers = webhookHeaders([key], id, new Date(), body);
        const receiver = new Webhook(`whsec_${key.toString("base64")}`);
        expect(() => receiver.verify(body, { ...headers }, { jsonParse: false })).not.toThrow();
      }),
      { numRuns: 200 },
    );
  });

  it("during a rotation, by a receiver that knows only the old or only the new secret", () => {
    const oldSecret = generateSecret();
    const newSecret = generateSecret();
    const keys = new SigningKeys({
      current: keyOf(newSecret),
      previous: keyOf(oldSecret),
      previousValidUntil: new Date(Date.now() + 3_600_000),
    });
    const now = new Date();
    const body = Buffer.from(JSON.stringify({ type: "order.created", data: { id: 7 } }));
    const headers = webhookHeaders(keys.activeKeys(now), "evt_ORDERS_7", now, body);

    expect(headers["webhook-signature"].split(" ")).toHaveLength(2);
    expect(new Webhook(oldSecret).verify(body, { ...headers })).toEqual({
      type: "order.created",
      data: { id: 7 },
    });
    expect(new Webhook(newSecret).verify(body, { ...headers })).toEqual({
      type: "order.created",
      data: { id: 7 },
    });
    expect(() => new Webhook(generateSecret()).verify(body, { ...headers })).toThrow(/No matching signature/);

    const afterGrace = new Date(Date.now() + 3_600_000);
    const later = webhookHeaders(keys.activeKeys(afterGrace), "evt_ORDERS_7", now, body);
    expect(later["webhook-signature"].split(" ")).toHaveLength(1);
    expect(() => new Webhook(newSecret).verify(body, { ...later })).not.toThrow();
    expect(() => new Webhook(oldSecret).verify(body, { ...later })).toThrow(/No matching signature/);
  });
});

describe("webhookHeaders", () => {
  it("carries the id, the attempt's Unix seconds and the signature over them", () => {
    const key = randomBytes(32);
    const body = Buffer.from("hello");
    const headers = webhookHeaders([key], "evt_S_1", new Date(1_700_000_000_999), body);
    expect(headers).toEqual({
      "webhook-id": "evt_S_1",
      "webhook-timestamp": "1700000000",
      "webhook-signature": webhookSignature([key], "evt_S_1", 1_700_000_000, body),
    });
  });

  it("refuses an invalid date instead of signing NaN", () => {
    expect(() => webhookHeaders([randomBytes(32)], "a", new Date(Number.NaN), Buffer.alloc(0))).toThrow(
      /whole Unix seconds/,
    );
  });
});
