import { describeRedisError, type RedisAdapter } from "../adapters/redis";
import type { Config } from "../config";
import { ApiError } from "../errors";
import { log } from "../lib/log";
import { type RateLimitState, rateLimitHeaders, secondsFromMs } from "./rate-limit-headers";

const SIGNUP_POLICY = "signup";

/**
 * Sign-ups per client IP, through the same admission script (no units, nothing billed). Anonymous
 * and unbilled, so it fails closed: while Redis is unreachable, sign-ups wait (503).
 * Returns the RateLimit headers for the response; throws RATE_LIMITED (429) when over the limit.
 */
export async function limitSignups(
  {
    redis,
    config,
    now = Date.now,
  }: { redis: RedisAdapter; config: Pick<Config, "SIGNUP_RATE_LIMIT">; now?: () => number },
  { clientIp, requestId }: { clientIp: string; requestId: string },
): Promise<Record<string, string>> {
  const { limit, windowSeconds } = config.SIGNUP_RATE_LIMIT;
  let reply: Awaited<ReturnType<RedisAdapter["admitUsage"]>>;
  try {
    reply = await redis.admitUsage({
      usageId: `s_${crypto.randomUUID().replaceAll("-", "")}`,
      requestId,
      subject: `signup-ip:${clientIp}`,
      apiKeyId: null,
      stripeCustomerId: null,
      tier: SIGNUP_POLICY,
      units: 0,
      nowMs: now(),
      tiers: { [SIGNUP_POLICY]: { limit, windowSeconds } },
    });
  } catch (error) {
    log("warn", "signup limit unavailable", { request_id: requestId, error: describeRedisError(error) });
    throw new ApiError("DEPENDENCY_UNAVAILABLE", "Sign-up is temporarily unavailable; retry shortly.", {
      headers: { "Retry-After": "5" },
    });
  }
  if (reply.status !== "admitted" && reply.status !== "rate_limited") {
    throw new Error(`signup limit: unexpected reply ${reply.status}`);
  }
  const state: RateLimitState = {
    policy: SIGNUP_POLICY,
    limit,
    windowSeconds,
    remaining: reply.remaining,
    resetSeconds: secondsFromMs(reply.resetMs),
  };
  const headers = rateLimitHeaders(state);
  if (reply.status === "rate_limited") {
    const retryAfter = secondsFromMs(reply.resetMs);
    throw new ApiError("RATE_LIMITED", `Too many sign-ups from this address; retry in ${retryAfter} s.`, {
      headers: { ...headers, "Retry-After": String(retryAfter) },
    });
  }
  return headers;
}
