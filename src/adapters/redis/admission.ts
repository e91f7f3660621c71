/**
 * The admission script's side of the Redis adapter: its KEYS and ARGV for a token's call and an API
 * key's call, and its reply as a typed value. One call is one EVALSHA, so one HTTP request.
 */

import { IDEMPOTENCY_PENDING_TTL_MS } from "../../metering/idempotency";
import { ACCOUNT_READS_LIMIT, NO_API_KEY, redisKeys, USAGE_STREAM_KEY } from "../../metering/scripts/keys";
import type { AdmitApiKeyUsageInput, AdmitUsageInput, AdmitUsageReply } from "../../metering/usage-record";

/** How long the stream lives after its last write; the flusher reads it every minute. */
export const USAGE_STREAM_TTL_SECONDS = 30 * 24 * 3600;

/**
 * How long an appended record's marker blocks a second append of the same record, and keeps what
 * the drain learnt about that usage id (drain-usage.ts): 7 days.
 */
export const APPEND_MARKER_TTL_SECONDS = 7 * 24 * 3600;
/** Period counters outlive their month by this much, for late compensations and reconciliation. */
const PERIOD_COUNTER_GRACE_SECONDS = 35 * 24 * 3600;

/** The last month `usagePeriodOf` answered, [startMs, endMs): every admission asks, nearly always of this month. */
let lastPeriod = { startMs: 0, endMs: 0, period: "", counterExpiresAt: 0 };

/** `YYYY-MM` of a UTC instant and the unix second when that month's counter may expire. */
export function usagePeriodOf(nowMs: number): { period: string; counterExpiresAt: number } {
  if (!(nowMs >= lastPeriod.startMs && nowMs < lastPeriod.endMs)) {
    const now = new Date(nowMs);
    const startMs = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
    const endMs = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
    lastPeriod = {
      startMs,
      endMs,
      period: now.toISOString().slice(0, 7),
      counterExpiresAt: Math.floor(endMs / 1000) + PERIOD_COUNTER_GRACE_SECONDS,
    };
  }
  return { period: lastPeriod.period, counterExpiresAt: lastPeriod.counterExpiresAt };
}

export type ScriptReply = [number, ...(string | number)[]];

const tierArgsByTiers = new WeakMap<AdmitUsageInput["tiers"], string[]>();

/** The admission script's tier arguments (name, limit, window ms, monthly quota, ...), derived once per tiers object. */
function tierArgs(tiers: AdmitUsageInput["tiers"]): string[] {
  let args = tierArgsByTiers.get(tiers);
  if (!args) {
    args = Object.entries(tiers).flatMap(([name, { limit, windowSeconds, monthlyQuota }]) => [
      name,
      String(limit),
      String(windowSeconds * 1000),
      monthlyQuota === undefined ? "" : String(monthlyQuota),
    ]);
    tierArgsByTiers.set(tiers, args);
  }
  return args;
}

/** The script's KEYS and ARGV for a call made with a token (`input`) or an API key (`keyHash`). */
export function admitScriptCall(input: AdmitUsageInput | AdmitApiKeyUsageInput): {
  keys: string[];
  args: string[];
} {
  const { period, counterExpiresAt } = usagePeriodOf(input.nowMs);
  const byKey = "apiKeyHash" in input;
  // An API key's subject is read by the script, which derives the subject's keys itself; KEYS 1-5,
  // 7 and 9 then name keys that are never set.
  const subject = byKey ? "" : input.subject;
  const keys = [
    redisKeys.denySubject(subject || NO_API_KEY),
    redisKeys.denyApiKey((byKey ? null : input.apiKeyId) ?? NO_API_KEY),
    redisKeys.tierOverride(subject || NO_API_KEY),
    redisKeys.rateWindow(subject || NO_API_KEY),
    redisKeys.periodUsage(subject || NO_API_KEY, period),
    USAGE_STREAM_KEY,
    redisKeys.customerOverride(subject || NO_API_KEY),
    redisKeys.apiKeyEntry(byKey ? input.apiKeyHash : NO_API_KEY),
    redisKeys.spendCap(subject || NO_API_KEY),
  ];
  const args = [
    String(input.nowMs),
    input.usageId,
    String(input.units),
    byKey ? input.fallbackTier : input.tier,
    input.requestId,
    subject,
    (byKey ? null : input.stripeCustomerId) ?? "",
    new Date(input.nowMs).toISOString(),
    String(counterExpiresAt),
    String(USAGE_STREAM_TTL_SECONDS),
    period,
    (byKey ? null : input.apiKeyId) ?? "",
    input.idempotency?.keyHash ?? "",
    input.idempotency?.fingerprint ?? "",
    String(IDEMPOTENCY_PENDING_TTL_MS),
    input.bucket === "reads" ? "reads" : "",
    String(ACCOUNT_READS_LIMIT.limit),
    String(ACCOUNT_READS_LIMIT.windowSeconds * 1000),
    ...tierArgs(input.tiers),
  ];
  return { keys, args };
}

/** The script's statuses that carry a window (admitted, rate limited, replayed, refused with the window). */
const VERDICT_STATUSES: ReadonlySet<number> = new Set([0, 1, 2, -7, -8, -9, -10]);

const orNull = (value: string | number | undefined) =>
  value === undefined || value === "" ? null : String(value);

/** The script's reply as a typed value. */
export function toAdmitReply(reply: ScriptReply): AdmitUsageReply {
  const [status, tier, limit, remaining, resetMs, windowMs, periodUnits, customer, subject, keyId, ...rest] =
    reply;
  if (status === -1) return { status: "denied", reason: "subject" };
  if (status === -2) return { status: "denied", reason: "api_key" };
  if (status === -3) return { status: "unknown_tier", tier: String(tier) };
  if (status === -4) return { status: "key_missing" };
  if (status === -5) return { status: "key_unknown" };
  if (status === -6) return { status: "key_expired", expiresAtMs: Number(tier) };
  // -11: this usage id was already compensated or replayed (its call timed out and was settled as
  // uncertain); only a script that ran after the Worker gave up can see it, and nobody reads it.
  if (status === -11) throw new Error("admit-usage: usage id already settled; nothing admitted");
  if (!VERDICT_STATUSES.has(status)) {
    throw new Error(`admit-usage: unexpected reply ${JSON.stringify(reply)}`);
  }
  const window = {
    tier: String(tier),
    limit: Number(limit),
    remaining: Number(remaining),
    resetMs: Number(resetMs),
    windowMs: Number(windowMs),
    periodUnits: Number(periodUnits),
    stripeCustomerId: orNull(customer),
    ...(subject !== undefined && { subject: String(subject) }),
    apiKeyId: orNull(keyId),
  };
  if (status === -9) return { status: "cost_over_limit", ...window };
  if (status === -10) {
    const [kind, allowance] = rest;
    return {
      status: "quota_exceeded",
      ...window,
      allowance: { kind: kind === "cap" ? "cap" : "quota", units: Number(allowance) },
    };
  }
  if (status === -7 || status === -8) {
    return { status: "idempotency_refused", reason: status === -7 ? "reused" : "in_use", ...window };
  }
  if (status === 2) {
    const [storedStatus, stored, body, units] = rest;
    return {
      status: "replayed",
      response: {
        status: Number(storedStatus),
        stored: stored === "1",
        body: String(body ?? ""),
        units: Number(units),
      },
      ...window,
    };
  }
  if (status === 1 && rest.length >= 4) {
    const [limit, remaining, resetMs, windowMs] = rest.map(Number) as [number, number, number, number];
    return { status: "admitted", ...window, tierWindow: { limit, remaining, resetMs, windowMs } };
  }
  return { status: status === 1 ? "admitted" : "rate_limited", ...window };
}
