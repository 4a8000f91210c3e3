import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import {
  isValidWebhookId,
  MAX_WEBHOOK_ID_LENGTH,
  webhookId,
  type EventRef,
} from "../../../src/signing/index.js";

describe("webhookId", () => {
  it.each<[EventRef, string]>([
    [{ msgId: "order-123", stream: "ORDERS", seq: 5 }, "order-123"],
    [{ msgId: "01HZX3K9V8Q2W7", stream: "ORDERS", seq: 5 }, "01HZX3K9V8Q2W7"],
    [
      { msgId: "3f2c1a9e-7b4d-4c1e-9a8f-0d6b5e4c3a21", stream: "S", seq: 1 },
      "3f2c1a9e-7b4d-4c1e-9a8f-0d6b5e4c3a21",
    ],
    [{ msgId: "order.123", stream: "ORDERS", seq: 5 }, "msg_order-2e123"],
    [{ msgId: "order-1.2", stream: "ORDERS", seq: 5 }, "msg_order-2d1-2e2"],
    [{ msgId: "caf\u00e9", stream: "ORDERS", seq: 5 }, "msg_caf-c3-a9"],
    [{ msgId: "msg_1", stream: "ORDERS", seq: 5 }, "msg_msg_1"],
    [{ msgId: "evt_ORDERS_5", stream: "ORDERS", seq: 5 }, "msg_evt_ORDERS_5"],
    [{ stream: "ORDERS", seq: 5 }, "evt_ORDERS_5"],
    [{ msgId: "", stream: "ORDERS", seq: 5 }, "evt_ORDERS_5"],
    [
      { msgId: undefined, stream: "shop-events", seq: 18_446_744_073_709_551_615n },
      "evt_shop-2devents_18446744073709551615",
    ],
  ])("%j gives %s", (ref, id) => {
    expect(webhookId(ref)).toBe(id);
  });

  it("keeps long ids within the limit, readable, and apart", () => {
    const long = "tenant.acme.order." + "x".repeat(200);
    const a = webhookId({ msgId: long, stream: "S", seq: 1 });
    const b = webhookId({ msgId: long + "y", stream: "S", seq: 1 });
    expect(a.length).toBeLessThanOrEqual(MAX_WEBHOOK_ID_LENGTH);
    expect(a.startsWith("msg_tenant-2eacme-2eorder-2exxx")).toBe(true);
    expect(a).toContain("--");
    expect(a).not.toBe(b);
    expect(webhookId({ msgId: "u".repeat(129), stream: "S", seq: 1 })).toMatch(/^msg_u+--[A-Za-z0-9_-]{43}$/);
    expect(webhookId({ msgId: "u".repeat(128), stream: "S", seq: 1 })).toBe("u".repeat(128));
    expect(webhookId({ stream: "\u00e9".repeat(100), seq: 7 })).toMatch(
      /^evt_(-c3-a9)+--[A-Za-z0-9_-]{43}_7$/,
    );
  });

  it.each([0, -1, 1.5, Number.NaN, 0n, 2n ** 64n])("refuses the stream sequence %p", (seq) => {
    expect(() => webhookId({ stream: "S", seq })).toThrow(/positive 64-bit integer/);
  });

  it("refuses an empty stream name", () => {
    expect(() => webhookId({ stream: "", seq: 1 })).toThrow(/stream name is empty/);
  });

  // Small alphabets make the near-collisions a careless scheme would hit (order.1 vs
  // order_1 vs order-2e1 vs msg_order-2e1), plus lone surrogates and astral characters.
  const trickyChar = fc.constantFrom(
    "a",
    "e",
    "2",
    "_",
    "-",
    ".",
    "m",
    "s",
    "g",
    "v",
    "t",
    "\u00e9",
    "\ufffd",
    "\ud83d",
    "\ude00",
    "\u{1f600}",
  );
  const tricky = fc.string({ unit: trickyChar, maxLength: 12 });
  const anyText = fc.oneof(
    tricky,
    fc.string({ unit: "binary", maxLength: 150 }),
    fc.string({ maxLength: 200 }),
  );
  const refArb: fc.Arbitrary<EventRef> = fc.record({
    msgId: fc.option(anyText, { nil: undefined }),
    stream: fc
      .oneof(tricky, fc.string({ unit: "binary", minLength: 1, maxLength: 150 }))
      .filter((s) => s !== ""),
    seq: fc.oneof(fc.integer({ min: 1, max: 30 }), fc.bigInt({ min: 1n, max: 2n ** 64n - 1n })),
  });
  // What identifies the event: a Nats-Msg-Id if one is set, else stream and sequence.
  const identity = (ref: EventRef): string =>
    ref.msgId ? `m:${ref.msgId}` : `s:${ref.stream}\u0000${ref.seq.toString()}`;

  it("is stable, spec-valid and never contains '.'", () => {
    fc.assert(
      fc.property(refArb, (ref) => {
        const id = webhookId(ref);
        expect(webhookId({ ...ref })).toBe(id);
        expect(id).not.toContain(".");
        expect(isValidWebhookId(id)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it("differs for different events", () => {
    fc.assert(
      fc.property(fc.uniqueArray(refArb, { selector: identity, minLength: 2, maxLength: 40 }), (refs) => {
        const ids = refs.map(webhookId);
        expect(new Set(ids).size).toBe(refs.length);
      }),
      { numRuns: 500 },
    );
  });

  it("differs for every pair drawn from a crowded space", () => {
    const seen = new Map<string, string>();
    // Lone surrogates and U+FFFD: an encoder that replaced the former would merge all three.
    const chars = ["a", "_", "-", ".", "2", "e", "\ud83d", "\ude00", "\ufffd"];
    const all: string[] = [""];
    for (let len = 1; len <= 4; len++) {
      for (const prefix of all.filter((s) => s.length === len - 1))
        for (const c of chars) all.push(prefix + c);
    }
    const refs: EventRef[] = [
      ...all.filter((s) => s !== "").map((msgId) => ({ msgId, stream: "S", seq: 1 })),
      ...all.filter((s) => s !== "").flatMap((stream) => [1, 2, 12].map((seq) => ({ stream, seq }))),
      ...["msg_", "evt_", "msg_a-2e", "evt_a_1", "evt_a_2_1"].map((msgId) => ({
        msgId,
        stream: "S",
        seq: 1,
      })),
    ];
    for (const ref of refs) {
      const id = webhookId(ref);
      const key = identity(ref);
      expect(seen.get(id) ?? key).toBe(key);
      seen.set(id, key);
    }
  });
});
