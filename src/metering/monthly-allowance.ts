/**
 * Monthly quotas and spend caps: how many units an account may be billed in a UTC calendar month.
 * The tier's `monthlyQuota` (RATE_LIMIT_TIERS) and the account's own spend cap (PUT
 * /v1/account/spend-cap, paying accounts only) both apply; the lower one is in force. Admission
 * enforces it in its one round trip (admit-usage, status -10); this file says what it means.
 */

/** An account's spend cap as Postgres records it: units a month (null: none) and its version. */
export interface SpendCapState {
  units: number | null;
  /** Grows with every change (accounts.spend_cap_version): Redis keeps the newest it was sent. */
  version: number;
}

/** 00:00 UTC on the 1st of the month after `nowMs`: when the month's usage starts again from 0. */
export function nextPeriodStartMs(nowMs: number): number {
  const now = new Date(nowMs);
  return Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
}

/** The allowance in force: the lower of the tier's quota and the account's cap, or null for none. */
export function allowanceInForce(quota: number | null, cap: number | null): number | null {
  if (quota === null) return cap;
  if (cap === null) return quota;
  return Math.min(quota, cap);
}

/** This month's allowance as /v1/account shows it (`used` null while the counter is unreachable). */
export function monthlyAllowanceView({
  quota,
  cap,
  used,
  nowMs,
}: {
  quota: number | null;
  cap: number | null;
  used: number | null;
  nowMs: number;
}) {
  const limit = allowanceInForce(quota, cap);
  return {
    monthly_quota: quota,
    spend_cap: cap,
    limit,
    remaining: limit === null || used === null ? null : Math.max(0, limit - used),
    resets_at: new Date(nextPeriodStartMs(nowMs)).toISOString(),
  };
}
