import { describe, expect, it } from "vitest";
import { BoundedLru } from "./bounded-lru";

describe("BoundedLru", () => {
  it("evicts the least recently used entry beyond the count bound", () => {
    const cache = new BoundedLru<number>(2, 1000);
    cache.set("a", 1, 1);
    cache.set("b", 2, 1);
    expect(cache.get("a")).toBe(1); // a is now the most recent
    cache.set("c", 3, 1);
    expect(cache.get("b")).toBeUndefined();
    expect(cache.get("a")).toBe(1);
    expect(cache.get("c")).toBe(3);
  });

  it("evicts until the byte bound holds, and never keeps an entry larger than the cache", () => {
    const cache = new BoundedLru<string>(100, 10);
    cache.set("a", "a", 4);
    cache.set("b", "b", 4);
    cache.set("c", "c", 4);
    expect(cache.size).toBe(2);
    expect(cache.bytes).toBe(8);
    expect(cache.get("a")).toBeUndefined();
    cache.set("huge", "h", 11);
    expect(cache.get("huge")).toBeUndefined();
    expect(cache.bytes).toBe(8);
  });

  it("replacing a key updates its size", () => {
    const cache = new BoundedLru<string>(10, 10);
    cache.set("a", "x", 6);
    cache.set("a", "y", 2);
    expect(cache.bytes).toBe(2);
    expect(cache.get("a")).toBe("y");
  });
});
