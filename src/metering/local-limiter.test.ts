import { describe, expect, it } from "vitest";
import { LocalWindowLimiter } from "./local-limiter";

describe("LocalWindowLimiter's share of a Redis window", () => {
  it("grants the fallback only what Redis last said was left, while that window lasts", () => {
    const limiter = new LocalWindowLimiter();
    expect(limiter.allowance("a", 5, 0)).toBe(5);
    limiter.noteRedisWindow("a", 2, 1000, 0, 10_000);
    expect(limiter.allowance("a", 5, 999)).toBe(2);
    // The oldest entry Redis counted has left: one more, not the whole limit (the rest leave later).
    expect(limiter.allowance("a", 5, 1000)).toBe(3);
    expect(limiter.allowance("a", 5, 9999)).toBe(3);
    // Every entry Redis counted has left the window.
    expect(limiter.allowance("a", 5, 10_000)).toBe(5);
    // A tier limit lowered since: never more than the limit.
    limiter.noteRedisWindow("a", 9, 1000, 20_000, 10_000);
    expect(limiter.allowance("a", 5, 20_500)).toBe(5);
    expect(limiter.allowance("b", 5, 20_500)).toBe(5);
  });

  it("so live and fallback admissions together stay within the limit on one isolate", () => {
    const limiter = new LocalWindowLimiter();
    limiter.noteRedisWindow("a", 1, 10_000, 0, 10_000);
    const admit = (at: number) => limiter.admit("a", limiter.allowance("a", 3, at), 10_000, at);
    expect(admit(100)).toMatchObject({ allowed: true, remaining: 0 });
    expect(admit(200).allowed).toBe(false);
  });

  it("remembers a bounded number of subjects", () => {
    const limiter = new LocalWindowLimiter(2);
    limiter.noteRedisWindow("a", 0, 1000, 0, 1000);
    limiter.noteRedisWindow("b", 0, 1000, 0, 1000);
    limiter.noteRedisWindow("c", 0, 1000, 0, 1000);
    expect(limiter.allowance("a", 5, 10)).toBe(5);
    expect(limiter.allowance("c", 5, 10)).toBe(0);
  });
});
