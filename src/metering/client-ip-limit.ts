import { describeRedisError, type RedisAdapter } from "../adapters/redis";
import type { RateLimitWindow } from "../config";
import { clientNetworkOf } from "../lib/ip-address";
import { log } from "../lib/log";
import { Refusal } from "../refusal";
import { type RateLimitState, rateLimitHeaders, secondsFromMs } from "./rate-limit-headers";

/** An anonymous route limited per client IP (`CF-Connecting-IP`) rather than per account. */
export interface ClientIpLimit {
  /** The policy name in the RateLimit headers and the Redis key, e.g. "signup". */
  policy: string;
  /** The route, for the 503 message: "POST /v1/signup". */
  route: string;
  /** What is counted, for the 429 message: "sign-ups", "token requests". */
  counted: string;
  limit: number;
  windowSeconds: number;
  /**
   * While Redis is unreachable: "refuse" (503; nothing is lost by waiting, e.g. sign-ups) or
   * "allow" (unlimited; e.g. token exchange, so paying clients keep working through an outage).
   */
  whenUnavailable: "refuse" | "allow";
}

/**
 * Counts one call of `clientIp` against `rule`, through the same admission script as metered calls
 * (no units, nothing billed). Returns the RateLimit headers for the response; throws RATE_LIMITED
 * (429) when over the limit, or DEPENDENCY_UNAVAILABLE (503) when Redis is down and the rule refuses.
 */
export async function limitByClientIp(
  { redis, now = Date.now }: { redis: RedisAdapter; now?: () => number },
  rule: ClientIpLimit,
  { clientIp, requestId }: { clientIp: string; requestId: string },
): Promise<Record<string, string>> {
  const { policy, limit, windowSeconds } = rule;
  let reply: Awaited<ReturnType<RedisAdapter["admitUsage"]>>;
  try {
    reply = await redis.admitUsage({
      usageId: `s_${crypto.randomUUID().replaceAll("-", "")}`,
      requestId,
      subject: `${policy}-ip:${clientIp}`,
      apiKeyId: null,
      stripeCustomerId: null,
      tier: policy,
      units: 0,
      nowMs: now(),
      tiers: { [policy]: { limit, windowSeconds } },
    });
  } catch (error) {
    log("warn", "client ip limit unavailable", {
      request_id: requestId,
      policy,
      outcome: rule.whenUnavailable === "refuse" ? "refused" : "allowed",
      error: describeRedisError(error),
    });
    if (rule.whenUnavailable === "allow") return {};
    throw new Refusal("DEPENDENCY_UNAVAILABLE", `${rule.route} is temporarily unavailable; retry shortly.`, {
      retryAfterSeconds: 5,
    });
  }
  if (reply.status !== "admitted" && reply.status !== "rate_limited") {
    throw new Error(`${policy} limit: unexpected reply ${reply.status}`);
  }
  const state: RateLimitState = {
    policy,
    limit,
    windowSeconds,
    remaining: reply.remaining,
    resetSeconds: secondsFromMs(reply.resetMs),
  };
  if (reply.status === "rate_limited") {
    const retryAfter = secondsFromMs(reply.resetMs);
    throw new Refusal(
      "RATE_LIMITED",
      `Too many ${rule.counted} from this address; retry in ${retryAfter} s.`,
      {
        rateLimit: state,
        retryAfterSeconds: retryAfter,
      },
    );
  }
  return rateLimitHeaders(state);
}

/** Sign-ups (SIGNUP_RATE_LIMIT): waiting costs nothing, so they wait while Redis is unreachable. */
export const signupLimit = (window: RateLimitWindow): ClientIpLimit => ({
  policy: "signup",
  route: "POST /v1/signup",
  counted: "sign-ups",
  ...window,
  whenUnavailable: "refuse",
});

/**
 * Token exchange (TOKEN_RATE_LIMIT): each call looks the key up in Postgres, so floods are limited; allowed while Redis
 * is unreachable, as paying clients must keep renewing tokens through an outage.
 */
export const tokenLimit = (window: RateLimitWindow): ClientIpLimit => ({
  policy: "token",
  route: "POST /v1/token",
  counted: "token requests",
  ...window,
  whenUnavailable: "allow",
});

/**
 * The network the caller counts against: its address as Cloudflare reports it (`CF-Connecting-IP`),
 * IPv6 by its first `ipv6Prefix` bits (CLIENT_IPV6_PREFIX, see `clientNetworkOf`); "unknown" off
 * Cloudflare (local runs, tests without it).
 */
export const clientIpOf = (header: string | undefined, ipv6Prefix: number): string =>
  header === undefined ? "unknown" : clientNetworkOf(header, ipv6Prefix);
