import { describe, expect, it } from "@jest/globals";
import { BoundedCache } from "../../../src/routing/bounded-cache.js";

describe("BoundedCache", () => {
  it("returns what was stored", () => {
    const cache = new BoundedCache<string, number>(4);
    cache.set("a", 1);
    expect(cache.get("a")).toBe(1);
    expect(cache.get("b")).toBeUndefined();
  });

  it("never holds more than twice its capacity", () => {
    const cache = new BoundedCache<number, number>(10);
    for (let i = 0; i < 1000; i++) cache.set(i, i);
    expect(cache.size).toBeLessThanOrEqual(20);
    expect(cache.get(999)).toBe(999);
    expect(cache.get(0)).toBeUndefined();
  });

  it("keeps an entry that is used while it ages", () => {
    const cache = new BoundedCache<number, number>(2);
    cache.set(0, 0);
    for (let i = 1; i < 50; i++) {
      expect(cache.get(0)).toBe(0);
      cache.set(i, i);
    }
    expect(cache.get(0)).toBe(0);
    expect(cache.get(1)).toBeUndefined();
  });

  it("stores nothing when the capacity is 0", () => {
    const cache = new BoundedCache<string, number>(0);
    cache.set("a", 1);
    expect(cache.get("a")).toBeUndefined();
    expect(cache.size).toBe(0);
  });
});
