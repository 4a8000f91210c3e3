import { randomBytes } from "node:crypto";
import { describe, expect, it } from "@jest/globals";
import { SigningKeys } from "../../../src/signing/index.js";

describe("SigningKeys", () => {
  const current = randomBytes(32);
  const previous = randomBytes(32);
  const until = new Date("2030-01-01T00:00:00Z");

  it("signs with the current key alone when nothing is rotating", () => {
    expect(new SigningKeys({ current }).activeKeys(new Date())).toEqual([current]);
  });

  it("holds each key in memory of its own, never a view into Node's shared buffer pool", () => {
    // Buffer.from of a small buffer is a view into an 8 KiB pool slab, which a worker thread's
    // structured clone would copy whole with every request.
    const pooled = Buffer.from(current);
    expect(pooled.buffer.byteLength).toBeGreaterThan(32);
    const keys = new SigningKeys({
      current: pooled,
      previous: Buffer.from(previous),
      previousValidUntil: until,
    });
    for (const k of keys.activeKeys(new Date(until.getTime() - 1))) {
      expect(k.byteOffset).toBe(0);
      expect(k.buffer.byteLength).toBe(32);
    }
    expect(keys.current.equals(current)).toBe(true);
  });

  it("keeps the previous key, after the current one, until its expiry", () => {
    const keys = new SigningKeys({ current, previous, previousValidUntil: until });
    expect(keys.activeKeys(new Date(until.getTime() - 1))).toEqual([current, previous]);
    expect(keys.activeKeys(until)).toEqual([current]);
    expect(keys.activeKeys(new Date(until.getTime() + 60_000))).toEqual([current]);
  });

  it("does not sign twice when the previous key is the current one", () => {
    const keys = new SigningKeys({ current, previous: Buffer.from(current), previousValidUntil: until });
    expect(keys.activeKeys(new Date(0))).toEqual([current]);
    expect(keys.previous).toBeUndefined();
  });

  it("is not affected by later changes to the caller's buffers or date", () => {
    const mine = Buffer.from(current);
    const myUntil = new Date(until);
    const keys = new SigningKeys({ current: mine, previous, previousValidUntil: myUntil });
    mine.fill(0);
    myUntil.setTime(0);
    expect(keys.activeKeys(new Date(1000))).toEqual([current, previous]);
  });

  it("hands out frozen lists, so no caller can change what others sign with", () => {
    const keys = new SigningKeys({ current, previous, previousValidUntil: until });
    expect(Object.isFrozen(keys.activeKeys(new Date(0)))).toBe(true);
    expect(Object.isFrozen(keys.activeKeys(until))).toBe(true);
  });
});
