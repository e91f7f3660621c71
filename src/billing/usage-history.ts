/**
 * An account's units per UTC day or hour, for GET /v1/usage and the console. An account with a
 * Stripe customer is shown the billing ledger (`usage_history`, over the usage buckets since
 * migrations/0017), what Stripe bills, once the flusher has moved it (a minute or two behind, at
 * most FLUSH_SEAL_SECONDS while the account keeps calling); free usage never reaches the ledger,
 * so an account without one is shown the usage counters admission keeps in Redis
 * (src/metering/scripts/usage-counters.ts).
 */
import { z } from "zod";
import type { RedisAdapter } from "../adapters/redis";
import type { DatabaseAdapter } from "../adapters/supabase";
import { Refusal } from "../refusal";

export type UsageGranularity = "day" | "hour";

/** The widest range one request may ask for, per granularity: 93 days of days, 7 days of hours. */
export const MAX_USAGE_RANGE_MS: Record<UsageGranularity, number> = {
  day: 93 * 86_400_000,
  hour: 7 * 86_400_000,
};

const bucketsSchema = z.array(z.object({ start: z.string(), units: z.coerce.number() }));
export type UsageBucket = z.infer<typeof bucketsSchema>[number];

/** The account's billed units per bucket in [from, to), oldest first; buckets without usage are left out. */
export async function usageHistory(
  db: DatabaseAdapter,
  {
    accountId,
    from,
    to,
    granularity,
  }: { accountId: string; from: Date; to: Date; granularity: UsageGranularity },
): Promise<UsageBucket[]> {
  return bucketsSchema.parse(
    await db.rpc<unknown>("usage_history", {
      p_account_id: accountId,
      p_from: from.toISOString(),
      p_to: to.toISOString(),
      p_granularity: granularity,
    }),
  );
}

export type UsageSource = "ledger" | "counters";

/** Where an account's usage is read: the ledger for an account with a Stripe customer, else the counters. */
export const usageSourceOf = (stripeCustomerId: string | null): UsageSource =>
  stripeCustomerId ? "ledger" : "counters";

/** The account's units per bucket from the source that fits it (see the header), with the source named. */
export async function accountUsage(
  { db, redis }: { db: DatabaseAdapter; redis: RedisAdapter },
  request: {
    accountId: string;
    stripeCustomerId: string | null;
    from: Date;
    to: Date;
    granularity: UsageGranularity;
  },
): Promise<{ source: UsageSource; buckets: UsageBucket[] }> {
  const { accountId, stripeCustomerId, ...range } = request;
  if (usageSourceOf(stripeCustomerId) === "ledger") {
    return { source: "ledger", buckets: await usageHistory(db, { accountId, ...range }) };
  }
  try {
    return { source: "counters", buckets: await redis.usageCounters(accountId, range) };
  } catch (error) {
    throw new Refusal("DEPENDENCY_UNAVAILABLE", "Usage figures are unavailable right now; retry shortly.", {
      cause: error,
    });
  }
}

/** The start of the UTC month `date` is in. */
export const monthStartOf = (date: Date) => new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1));
