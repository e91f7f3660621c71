/**
 * Admission: the decision, before any compute, whether a caller may proceed, and the usage record
 * that bills it. One Redis round trip when Redis answers; a configured fallback when it does not.
 *
 * Billing rule (DESIGN.md): a unit is billed iff the caller got a 2xx. The record is admitted
 * before compute; `settleAdmission` then compensates (same id, negative units) when the response
 * was not 2xx. While Redis is unreachable, paying tiers are served (fail-open) and their usage is
 * recorded durably in Postgres, to be replayed into the stream by `replayPendingUsage`.
 */
import { describeRedisError, mayHaveRun, type RedisAdapter } from "../adapters/redis";
import type { RateLimitTiers } from "../config";
import { log } from "../lib/log";
import { Refusal } from "../refusal";
import { LocalWindowLimiter } from "./local-limiter";
import { nextPeriodStartMs } from "./monthly-allowance";
import { type RateLimitState, secondsFromMs } from "./rate-limit-headers";
import type {
  AdmitUsageReply,
  IdempotencyClaim,
  MonthlyAllowance,
  StoredResponse,
  UsageRecord,
} from "./usage-record";

/** Who is asking, from the verified token, and what the call costs. */
export interface AdmissionRequest {
  subject: string;
  tier: string;
  stripeCustomerId: string | null;
  apiKeyId: string | null;
  /** Units to bill: 1 per validation, 2 with enrichment, 0 for non-billable calls. */
  units: number;
  requestId: string;
  /** The call's Idempotency-Key, if any: checked in the same round trip. */
  idempotency?: IdempotencyClaim | null;
  /** "reads": an account read, in its own window (ACCOUNT_READS_LIMIT). Default "tier". */
  bucket?: "tier" | "reads";
}

export type Admission =
  | {
      outcome: "admitted";
      /** "degraded": Redis was unreachable and this tier fails open; usage goes to Postgres. */
      mode: "live" | "degraded";
      record: UsageRecord;
      rateLimit: RateLimitState;
      /** Units admitted this UTC month; null when Redis could not say. */
      periodUnits: number | null;
      /** An account read: its own window (then `rateLimit` is the tier's, as it stands, unspent). */
      readsRateLimit?: RateLimitState;
      /** Degraded only: the timed-out admission call may have recorded the record in Redis anyway. */
      mayBeInStream?: boolean;
    }
  | {
      outcome: "rate_limited";
      rateLimit: RateLimitState;
      retryAfterSeconds: number;
      /** Set when Redis did not answer: the script may still have admitted this record (see `settleRefusal`). */
      uncertainRecord?: UsageRecord;
    }
  | { outcome: "revoked"; reason: "subject" | "api_key" }
  /** Idempotency-Key: the first call's response, answered again (not billed, not counted). */
  | { outcome: "replayed"; rateLimit: RateLimitState; response: StoredResponse }
  | { outcome: "idempotency_refused"; reason: "reused" | "in_use"; rateLimit: RateLimitState }
  /** The call costs more units than the tier's whole window: never admissible as sent. */
  | { outcome: "cost_over_limit"; rateLimit: RateLimitState }
  /**
   * This month's units plus the call's would pass the tier's monthly quota or the account's spend
   * cap (`allowance`): refused until `resetAtMs` (next UTC month), not billed, not counted.
   */
  | {
      outcome: "quota_exceeded";
      rateLimit: RateLimitState;
      allowance: MonthlyAllowance;
      usedUnits: number;
      resetAtMs: number;
      retryAfterSeconds: number;
    }
  | {
      outcome: "unavailable";
      rateLimit: RateLimitState;
      uncertainRecord?: UsageRecord;
      /** Set when the call sent an Idempotency-Key, which needs Redis: never served without it. */
      idempotent?: boolean;
    };

export type AdmittedRequest = Extract<Admission, { outcome: "admitted" }>;

/** The admission settings, from RATE_LIMIT_TIERS and ADMISSION_FAIL_CLOSED_TIERS. */
export interface AdmissionSettings {
  /** Tier name to its sliding window. Default free 5 per 10 s, pro 100 per 10 s. */
  tiers: RateLimitTiers;
  /** Tiers refused (503) while Redis is unreachable; the others are served and billed later. Default ["free"]. */
  failClosedTiers: readonly string[];
}

export interface AdmissionDeps {
  redis: RedisAdapter;
  settings: AdmissionSettings;
  /** Clock in ms; injectable for tests. Default Date.now. */
  now?: () => number;
  /** Fallback limiter while Redis is down. Default: one per isolate. */
  localLimiter?: LocalWindowLimiter;
}

const isolateLimiter = new LocalWindowLimiter();

/** Admissions decided by this isolate since it started, by path: what `/health/ready` shows. */
const counters = { live: 0, fallback_served: 0, fallback_refused: 0 };

/**
 * This isolate's admission counts since it started, and the share that Redis did not decide in
 * time (the fallback rate): a rising rate means the admission budget is too tight for the round
 * trip to the Redis primary, or Redis is struggling.
 */
export function admissionStats() {
  const fallback = counters.fallback_served + counters.fallback_refused;
  const total = counters.live + fallback;
  return { ...counters, fallback_rate: total === 0 ? 0 : Math.round((fallback / total) * 10_000) / 10_000 };
}

/** A fresh usage record id: generated before compute, carried by the admission and any compensation. */
export function newUsageId(): string {
  return `u_${crypto.randomUUID().replaceAll("-", "")}`;
}

/**
 * The configured policy for `tier`; a tier missing from RATE_LIMIT_TIERS (renamed or removed since
 * the token was minted) gets the strictest configured policy rather than no limit.
 */
export function policyFor(
  tiers: RateLimitTiers,
  tier: string,
): { tier: string; limit: number; windowSeconds: number } {
  const own = tiers[tier];
  if (own) return { tier, ...own };
  const strictest = Object.entries(tiers).sort(
    ([, a], [, b]) => a.limit / a.windowSeconds - b.limit / b.windowSeconds,
  )[0];
  if (!strictest) throw new Refusal("SERVICE_MISCONFIGURED", "No rate-limit tiers are configured.");
  return { tier: strictest[0], ...strictest[1] };
}

/**
 * Admits (or refuses) one request: deny-list, tier override, sliding window, period usage and the
 * usage record, in one Redis request. Never throws for Redis trouble: that becomes a degraded
 * admission (fail-open tiers) or `unavailable` (fail-closed tiers).
 */
export async function admitRequest(deps: AdmissionDeps, request: AdmissionRequest): Promise<Admission> {
  const nowMs = (deps.now ?? Date.now)();
  const policy = policyFor(deps.settings.tiers, request.tier);
  const record = usageRecordOf(request, policy.tier, nowMs);

  let reply: Awaited<ReturnType<RedisAdapter["admitUsage"]>>;
  try {
    reply = await deps.redis.admitUsage({
      usageId: record.id,
      requestId: request.requestId,
      subject: request.subject,
      apiKeyId: request.apiKeyId,
      stripeCustomerId: request.stripeCustomerId,
      tier: policy.tier,
      units: request.units,
      nowMs,
      tiers: deps.settings.tiers,
      idempotency: request.idempotency,
      bucket: request.bucket,
    });
  } catch (error) {
    return admitWithoutRedis(deps, request, record, policy, nowMs, error);
  }

  return admissionOfReply(deps, request, record, reply, nowMs);
}

/**
 * The admission that a reply of the admission script means for `request` (whose `record` the
 * script admitted, or not). The record takes the tier and Stripe customer the script billed.
 */
export function admissionOfReply(
  deps: AdmissionDeps,
  request: AdmissionRequest,
  record: UsageRecord,
  reply: AdmitUsageReply,
  nowMs: number,
): Admission {
  if (reply.status === "denied") return { outcome: "revoked", reason: reply.reason };
  if (!("windowMs" in reply)) {
    // unknown_tier cannot happen (policyFor picked a configured tier) unless the configuration
    // changed mid-call; the key_* replies only answer calls made with an API key.
    throw new Refusal("SERVICE_MISCONFIGURED", `Admission answered ${reply.status} unexpectedly.`);
  }
  const reads = request.bucket === "reads";
  const rateLimit: RateLimitState = {
    policy: reads ? READS_POLICY : reply.tier,
    limit: reply.limit,
    windowSeconds: Math.round(reply.windowMs / 1000),
    remaining: reply.remaining,
    resetSeconds: secondsFromMs(reply.resetMs),
    cost: Math.max(request.units, 1),
  };
  counters.live += 1;
  // The fallback limiter mirrors the tier's window only; a read's own window is not it.
  if (!reads) {
    (deps.localLimiter ?? isolateLimiter).noteRedisWindow(
      request.subject,
      reply.remaining,
      reply.resetMs,
      nowMs,
      reply.windowMs,
    );
  }
  if (reply.status === "rate_limited") {
    return { outcome: "rate_limited", rateLimit, retryAfterSeconds: secondsFromMs(reply.resetMs) };
  }
  if (reply.status === "replayed") return { outcome: "replayed", rateLimit, response: reply.response };
  if (reply.status === "cost_over_limit") return { outcome: "cost_over_limit", rateLimit };
  if (reply.status === "quota_exceeded") {
    const resetAtMs = nextPeriodStartMs(nowMs);
    return {
      outcome: "quota_exceeded",
      rateLimit,
      allowance: reply.allowance,
      usedUnits: reply.periodUnits,
      resetAtMs,
      retryAfterSeconds: secondsFromMs(resetAtMs - nowMs),
    };
  }
  if (reply.status === "idempotency_refused") {
    return { outcome: "idempotency_refused", reason: reply.reason, rateLimit };
  }
  const stripeCustomerId =
    reply.stripeCustomerId === undefined ? request.stripeCustomerId : reply.stripeCustomerId;
  return {
    outcome: "admitted",
    mode: "live",
    record: { ...record, tier: reply.tier, stripeCustomerId },
    rateLimit,
    periodUnits: reply.periodUnits,
    ...(reply.tierWindow && {
      // An account read: its headers show the tier's window (what the caller asks about), its own
      // window is in `readsRateLimit`; a refused read (429) shows its own.
      rateLimit: {
        policy: reply.tier,
        limit: reply.tierWindow.limit,
        windowSeconds: Math.round(reply.tierWindow.windowMs / 1000),
        remaining: reply.tierWindow.remaining,
        resetSeconds: secondsFromMs(reply.tierWindow.resetMs),
      },
      readsRateLimit: rateLimit,
    }),
  };
}

/** The RateLimit policy name of account reads' own window. */
const READS_POLICY = "account-reads";

/** The usage record of `request`, before admission (its id goes to Redis with the admission). */
export function usageRecordOf(
  request: AdmissionRequest,
  tier: string,
  nowMs: number,
  id = newUsageId(),
): UsageRecord {
  return {
    id,
    kind: "admit",
    requestId: request.requestId,
    subject: request.subject,
    stripeCustomerId: request.stripeCustomerId,
    tier,
    units: request.units,
    occurredAtMs: nowMs,
  };
}

/**
 * Admission while Redis did not answer (`error`): fail-closed tiers are refused, the others are
 * served within what Redis last said was left of the window and billed through Postgres. The
 * monthly quota and spend cap are not checked here (the month's usage is counted in Redis): a
 * fail-open tier is served past them during an outage, and every unit is still billed.
 */
export function admitWithoutRedis(
  deps: AdmissionDeps,
  request: AdmissionRequest,
  record: UsageRecord,
  policy: { tier: string; limit: number; windowSeconds: number },
  nowMs: number,
  error: unknown,
): Admission {
  const failClosed = deps.settings.failClosedTiers.includes(policy.tier);
  const stats = admissionStats();
  log("warn", "admission without redis", {
    request_id: request.requestId,
    subject: request.subject,
    tier: policy.tier,
    mode: failClosed ? "fail-closed" : "fail-open",
    error: describeRedisError(error),
    fallback_rate: stats.fallback_rate,
  });
  const base = { policy: policy.tier, limit: policy.limit, windowSeconds: policy.windowSeconds };
  // A timed-out call may have reached Redis and still run there, admitting `record`: a refusal from
  // here then carries it, so that it is compensated like any other answer that is not a 2xx. An
  // error reply means nothing ran (no compensation to write while Redis is plainly down).
  const uncertainRecord = record.units > 0 && mayHaveRun(error) ? record : undefined;
  // An Idempotency-Key promises one bill per key: only Redis can keep that promise, so such a call
  // is refused (503, unbilled) rather than served on a tier's fail-open path.
  if (request.idempotency) {
    counters.fallback_refused += 1;
    return { outcome: "unavailable", rateLimit: base, uncertainRecord, idempotent: true };
  }
  if (failClosed) {
    counters.fallback_refused += 1;
    return { outcome: "unavailable", rateLimit: base, uncertainRecord };
  }
  const limiter = deps.localLimiter ?? isolateLimiter;
  // Only what Redis last said was left of the window: the fallback does not add a window of its own.
  const local = limiter.admit(
    request.subject,
    limiter.allowance(request.subject, policy.limit, nowMs),
    policy.windowSeconds * 1000,
    nowMs,
  );
  const rateLimit = { ...base, remaining: local.remaining, resetSeconds: secondsFromMs(local.resetMs) };
  counters[local.allowed ? "fallback_served" : "fallback_refused"] += 1;
  if (!local.allowed) {
    return {
      outcome: "rate_limited",
      rateLimit,
      retryAfterSeconds: secondsFromMs(local.resetMs),
      uncertainRecord,
    };
  }
  return {
    outcome: "admitted",
    mode: "degraded",
    record,
    rateLimit,
    periodUnits: null,
    mayBeInStream: mayHaveRun(error),
  };
}
