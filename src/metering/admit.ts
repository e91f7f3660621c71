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
import type { DatabaseAdapter } from "../adapters/supabase";
import type { RateLimitTiers } from "../config";
import { log } from "../lib/log";
import { Refusal } from "../refusal";
import { withBilledCustomer } from "./billed-customer";
import { LocalWindowLimiter } from "./local-limiter";
import { recordPendingUsage } from "./pending-usage";
import { type RateLimitState, rateLimitHeaders, secondsFromMs } from "./rate-limit-headers";
import type { AdmitUsageReply, UsageRecord } from "./usage-record";

/** Who is asking, from the verified token, and what the call costs. */
export interface AdmissionRequest {
  subject: string;
  tier: string;
  stripeCustomerId: string | null;
  apiKeyId: string | null;
  /** Units to bill: 1 per validation, 2 with enrichment, 0 for non-billable calls. */
  units: number;
  requestId: string;
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
  | { outcome: "unavailable"; rateLimit: RateLimitState; uncertainRecord?: UsageRecord };

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
  if (reply.status !== "admitted" && reply.status !== "rate_limited") {
    // unknown_tier cannot happen (policyFor picked a configured tier) unless the configuration
    // changed mid-call; the key_* replies only answer calls made with an API key.
    throw new Refusal("SERVICE_MISCONFIGURED", `Admission answered ${reply.status} unexpectedly.`);
  }
  const rateLimit: RateLimitState = {
    policy: reply.tier,
    limit: reply.limit,
    windowSeconds: Math.round(reply.windowMs / 1000),
    remaining: reply.remaining,
    resetSeconds: secondsFromMs(reply.resetMs),
  };
  counters.live += 1;
  (deps.localLimiter ?? isolateLimiter).noteRedisWindow(
    request.subject,
    reply.remaining,
    reply.resetMs,
    nowMs,
    reply.windowMs,
  );
  if (reply.status === "rate_limited") {
    return { outcome: "rate_limited", rateLimit, retryAfterSeconds: secondsFromMs(reply.resetMs) };
  }
  const stripeCustomerId =
    reply.stripeCustomerId === undefined ? request.stripeCustomerId : reply.stripeCustomerId;
  return {
    outcome: "admitted",
    mode: "live",
    record: { ...record, tier: reply.tier, stripeCustomerId },
    rateLimit,
    periodUnits: reply.periodUnits,
  };
}

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
 * served within what Redis last said was left of the window and billed through Postgres.
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

/** The RateLimit headers of any admission outcome that has a policy. */
export function admissionHeaders(admission: Admission): Record<string, string> {
  return admission.outcome === "revoked" ? {} : rateLimitHeaders(admission.rateLimit);
}

/** The refusal of a refused admission: RATE_LIMITED, TOKEN_REVOKED or DEPENDENCY_UNAVAILABLE. */
export function admissionRefusal(admission: Exclude<Admission, AdmittedRequest>): Refusal {
  switch (admission.outcome) {
    case "rate_limited":
      return new Refusal(
        "RATE_LIMITED",
        `The ${admission.rateLimit.policy} tier allows ${admission.rateLimit.limit} requests per ${admission.rateLimit.windowSeconds} s; retry in ${admission.retryAfterSeconds} s.`,
        { rateLimit: admission.rateLimit, retryAfterSeconds: admission.retryAfterSeconds },
      );
    case "revoked":
      return new Refusal(
        "TOKEN_REVOKED",
        admission.reason === "api_key"
          ? "The API key this token was minted from has been revoked."
          : "Access for this account has been revoked.",
      );
    case "unavailable":
      return new Refusal(
        "DEPENDENCY_UNAVAILABLE",
        "Admission is temporarily unavailable for this tier; retry shortly.",
        {
          rateLimit: admission.rateLimit,
          retryAfterSeconds: 1,
        },
      );
  }
}

const isSuccess = (status: number) => status >= 200 && status < 300;

/**
 * Whether `settleAdmission` has anything to do: the common case (a live admission answered 2xx)
 * is already billed by the script, so the hot path skips scheduling work after the response.
 */
export function needsSettlement(admission: AdmittedRequest, status: number): boolean {
  if (admission.record.units === 0) return false;
  return admission.mode === "degraded" || !isSuccess(status);
}

/**
 * After the response: a live admission whose response was not 2xx gets a compensating record (same
 * id, negative units); a degraded admission is recorded in Postgres when it succeeded, and a
 * compensation is recorded when it did not (the timed-out script may have run after all; the
 * ledger ignores a compensation whose admission it never saw). Run it in `waitUntil`; never throws.
 */
export async function settleAdmission(
  deps: { redis: RedisAdapter; db: DatabaseAdapter },
  admission: AdmittedRequest,
  status: number,
): Promise<void> {
  if (!needsSettlement(admission, status)) return;
  const { record, mode } = admission;
  if (mode === "live") return compensate(deps, record);
  if (isSuccess(status)) return recordDurably(deps.db, record, admission.mayBeInStream);
  const billed = admission.mayBeInStream ? await withBilledCustomer(deps.db, record) : record;
  await recordDurably(deps.db, compensationOf(billed), admission.mayBeInStream);
}

/**
 * After a refusal that followed a timed-out admission call (`uncertainRecord`): the script may have
 * run in Redis after the client gave up and admitted the record, so it is compensated as a live
 * admission that did not end in 2xx would be. When the script never ran, the ledger ignores the
 * compensation (it never saw the admission). Run it in `waitUntil`; never throws.
 */
export async function settleRefusal(
  deps: { redis: RedisAdapter; db: DatabaseAdapter },
  refusal: Exclude<Admission, AdmittedRequest>,
): Promise<void> {
  if (refusal.outcome === "revoked" || !refusal.uncertainRecord) return;
  await compensate(deps, await withBilledCustomer(deps.db, refusal.uncertainRecord));
}

const compensationOf = (record: UsageRecord): UsageRecord => ({
  ...record,
  kind: "compensate",
  units: -record.units,
});

/** The compensation of a record the script (may have) admitted: into the stream, else into Postgres. */
async function compensate({ redis, db }: { redis: RedisAdapter; db: DatabaseAdapter }, record: UsageRecord) {
  const compensation = compensationOf(record);
  try {
    await redis.appendUsage(compensation, "live");
  } catch (error) {
    log("warn", "compensation via redis failed; recording it in postgres", {
      request_id: record.requestId,
      usage_id: record.id,
      error: describeRedisError(error),
    });
    await recordDurably(db, compensation);
  }
}

/**
 * Records `record` in Postgres for replay; if even that fails, logs it whole (never throws), so an
 * operator can re-enter it with `npm run usage-batches -- reenter '<log line>'`. That is safe even
 * when the record did get through: the ledger keys records by (usage id, kind). When the timed-out
 * admission may have recorded it in Redis, the line says so instead of calling it lost.
 */
async function recordDurably(db: DatabaseAdapter, record: UsageRecord, mayBeInStream = false): Promise<void> {
  try {
    await recordPendingUsage(db, record);
  } catch (error) {
    const message = mayBeInStream
      ? "usage record unconfirmed: postgres did not take it, and the timed-out admission may have recorded it in redis"
      : "usage record lost: neither redis nor postgres took it";
    log(mayBeInStream ? "warn" : "error", message, {
      request_id: record.requestId,
      usage_id: record.id,
      kind: record.kind,
      subject: record.subject,
      stripe_customer_id: record.stripeCustomerId,
      tier: record.tier,
      units: record.units,
      occurred_at: new Date(record.occurredAtMs).toISOString(),
      may_be_in_stream: mayBeInStream,
      error: describeRedisError(error),
    });
  }
}
