/**
 * Billed units per UTC day or hour, from the billing ledger (migrations/0013: `usage_history`),
 * for GET /v1/usage and the console. The ledger holds paid-tier usage once the flusher has moved
 * it (about a minute behind); free-tier usage is counted only as a monthly total (GET /v1/account).
 */
import { z } from "zod";
import type { DatabaseAdapter } from "../adapters/supabase";

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

/** The start of the UTC month `date` is in. */
export const monthStartOf = (date: Date) => new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1));
