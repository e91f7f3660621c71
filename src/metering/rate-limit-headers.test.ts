import { describe, expect, it } from "vitest";
import { LocalWindowLimiter } from "./local-limiter";
import { rateLimitHeaders, secondsFromMs } from "./rate-limit-headers";

describe("rateLimitHeaders (draft-ietf-httpapi-ratelimit-headers-10)", () => {
  it("writes the policy and the live state as structured fields", () => {
    expect(
      rateLimitHeaders({ policy: "pro", limit: 100, windowSeconds: 10, remaining: 57, resetSeconds: 3 }),
    ).toEqual({
      "RateLimit-Policy": '"pro";q=100;w=10',
      RateLimit: '"pro";r=57;t=3',
    });
  });

  it("omits RateLimit when the live state is unknown, and never goes negative", () => {
    expect(rateLimitHeaders({ policy: "free", limit: 5, windowSeconds: 10 })).toEqual({
      "RateLimit-Policy": '"free";q=5;w=10',
    });
    expect(
      rateLimitHeaders({ policy: 'a"b', limit: 1, windowSeconds: 1, remaining: -1, resetSeconds: 0 }),
    ).toEqual({
      "RateLimit-Policy": '"a\\"b";q=1;w=1',
      RateLimit: '"a\\"b";r=0;t=0',
    });
  });

  it("rounds waits up to whole seconds, at least 1", () => {
    expect(secondsFromMs(1)).toBe(1);
    expect(secondsFromMs(1000)).toBe(1);
    expect(secondsFromMs(1001)).toBe(2);
    expect(secondsFromMs(0)).toBe(1);
  });
});

describe("LocalWindowLimiter", () => {
  it("is a sliding window: an entry stops counting exactly one window later", () => {
    const limiter = new LocalWindowLimiter();
    expect(limiter.admit("a", 2, 1000, 0).allowed).toBe(true);
    expect(limiter.admit("a", 2, 1000, 500).allowed).toBe(true);
    expect(limiter.admit("a", 2, 1000, 999)).toMatchObject({ allowed: false, remaining: 0, resetMs: 1 });
    expect(limiter.admit("a", 2, 1000, 1000).allowed).toBe(true);
    expect(limiter.admit("b", 2, 1000, 1000).allowed).toBe(true);
  });

  it("forgets the least recently seen subjects past its capacity", () => {
    const limiter = new LocalWindowLimiter(2);
    limiter.admit("a", 1, 1000, 0);
    limiter.admit("b", 1, 1000, 0);
    limiter.admit("c", 1, 1000, 0);
    expect(limiter.admit("a", 1, 1000, 1).allowed).toBe(true);
    expect(limiter.admit("c", 1, 1000, 1).allowed).toBe(false);
  });
});
