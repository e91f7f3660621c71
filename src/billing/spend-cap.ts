/**
 * Spend caps (issue 16 item 5): a paying account caps the units it is billed per UTC month, in
 * units (the meter's unit, which the tier's Stripe price charges). Postgres holds it
 * (accounts.spend_cap_units, migrations/0014); Redis mirrors it (`sm:cap:<account>`) for admission,
 * which refuses a call that would pass it with 429 QUOTA_EXCEEDED, as for the tier's monthly quota.
 */
import { type Account, accountSchema, getAccount } from "../access/accounts";
import { describeRedisError, type RedisAdapter } from "../adapters/redis";
import type { DatabaseAdapter } from "../adapters/supabase";
import type { Config } from "../config";
import { log } from "../lib/log";
import type { SpendCapState } from "../metering/monthly-allowance";
import { Refusal } from "../refusal";

/** The largest cap accepted: far above any month's traffic, and exact in a JSON number and a Lua double. */
export const MAX_SPEND_CAP_UNITS = 1_000_000_000_000;

/** Whether the account pays for what it uses: a tier sold through Stripe, and a Stripe customer. */
export function isPayingAccount(config: Config, account: Pick<Account, "tier" | "stripe_customer_id">) {
  return account.stripe_customer_id !== null && config.BILLING_PRICE_LOOKUP_KEYS[account.tier] !== undefined;
}

/**
 * Sets (`units`) or removes (null) the account's spend cap: Postgres first (the record), then its
 * mirror in Redis (what admission enforces). SPEND_CAP_UNAVAILABLE (403) for an account that does
 * not pay; NOT_FOUND for no account; DEPENDENCY_UNAVAILABLE when Redis did not take the change (it
 * is saved: a retry applies it, and the next token exchange or key entry fill would).
 */
export async function setSpendCap(
  { db, redis, config }: { db: DatabaseAdapter; redis: RedisAdapter; config: Config },
  { accountId, units }: { accountId: string; units: number | null },
): Promise<Account> {
  const account = await getAccount(db, accountId);
  if (!account) throw new Refusal("NOT_FOUND", "This credential's account no longer exists.");
  if (units !== null && !isPayingAccount(config, account)) {
    throw new Refusal(
      "SPEND_CAP_UNAVAILABLE",
      `A spend cap is for paying accounts; the ${account.tier} tier has its monthly quota instead. Upgrade with POST /v1/billing/checkout, then set a cap.`,
    );
  }
  const saved = await db.rpc<unknown>("set_spend_cap", { p_account_id: accountId, p_units: units });
  if (saved === null) throw new Refusal("NOT_FOUND", "This credential's account no longer exists.");
  const updated = accountSchema.parse(saved);
  try {
    await redis.putSpendCap(accountId, {
      units: updated.spend_cap_units,
      version: updated.spend_cap_version,
    });
  } catch (error) {
    throw new Refusal(
      "DEPENDENCY_UNAVAILABLE",
      "The spend cap is saved but not yet in force (the rate limiter did not answer); send the same request again.",
      { retryAfterSeconds: 1, cause: error },
    );
  }
  return updated;
}

/**
 * Mirrors what Postgres just said of an account's cap into Redis (a token exchange, which read the
 * account anyway), unless Redis holds a newer version. Never throws: an unwritten mirror keeps the
 * last one until the next write.
 */
export async function mirrorSpendCap(
  redis: RedisAdapter,
  { accountId, cap, requestId }: { accountId: string; cap: SpendCapState; requestId: string },
): Promise<void> {
  try {
    await redis.putSpendCap(accountId, cap);
  } catch (error) {
    log("warn", "spend cap not mirrored", { request_id: requestId, error: describeRedisError(error) });
  }
}
