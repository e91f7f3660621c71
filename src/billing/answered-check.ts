/**
 * The reconciliation's second, independent check: the units the Worker answered 2xx (counted after
 * each response, per Stripe customer and UTC day: src/metering/answered-units.ts) against the units
 * the ledger bills for the same days, shown per customer and month, and ledger units that should
 * have reached Stripe by now but did not. The ledger's own identity (reconciliation.ts) cannot see
 * a billed refusal (a record without its compensation balances perfectly) nor usage that never
 * reaches the ledger or Stripe; this check sees both:
 * - billed > answered: units billed for answers that were not 2xx (issue 15, reproduction 1);
 * - answered > billed: units answered 2xx that are not in the ledger (a stalled stream, lost or
 *   dead-lettered records);
 * - unsent: ledger units older than the grace period not reported to Stripe (stuck batches);
 * - stalled: the oldest usage not yet in the ledger (stream entry, record awaiting replay) is older
 *   than the grace period: ingestion is not keeping up, or is stuck on something.
 * Only whole UTC days inside the range that were counted whole are compared: not the day counting
 * began if the ledger has usage of it from before (a deployment mid-day), nor a partial first or
 * last day of the range. Usage younger than the grace period may still be on its way (in the
 * stream, its compensation not yet appended), so while some is in flight a difference on a day
 * that ended less than the grace period ago is reported as `in_flight` instead of failing.
 * `--grace-minutes 0` after a drained flush makes every difference count.
 */
import { z } from "zod";
import type { RedisAdapter } from "../adapters/redis";
import type { DatabaseAdapter } from "../adapters/supabase";

/** How old usage may be and still be on its way to the ledger and Stripe. Default 15 minutes. */
export const DEFAULT_ANSWERED_GRACE_MS = 15 * 60 * 1000;
/** At most this many days are read from Redis per check (its counts live about 13 months). */
const MAX_REDIS_DAYS = 400;

const dayCount = z.object({ stripe_customer_id: z.string(), day: z.string(), units: z.number() });
const checkSchema = z.object({
  days_from: z.string().nullable(),
  days_to: z.string().nullable(),
  answered: z.array(dayCount),
  billed: z.array(dayCount),
  unsent: z.array(
    z.object({ stripe_customer_id: z.string(), period: z.string(), units: z.number(), oldest: z.string() }),
  ),
});

export interface AnsweredRow {
  stripe_customer_id: string;
  period: string;
  /** Units the Worker answered 2xx (Redis and Postgres counts). */
  answered: number;
  /** Units the ledger bills on the days compared: admitted - compensated. */
  billed: number;
  /** billed - answered: positive means billed without a 2xx, negative means answered but not billed. */
  difference: number;
  /** Ledger units older than the grace period that are not reported to Stripe yet. */
  unsent: number;
  matches: boolean;
}

export interface AnsweredCheck {
  /**
   * Nothing disagrees: every row matches and nothing is unsent or stalled ("balanced"), or no whole
   * counted day lies in the range and nothing is unsent or stalled ("not_compared").
   */
  balanced: boolean;
  /** "unavailable": Redis's counts could not be read, so nothing can be concluded. */
  status: "balanced" | "not_compared" | "mismatch" | "in_flight" | "unavailable";
  /** The UTC days compared, `from` inclusive and `to` exclusive (YYYY-MM-DD); null when none. */
  days_compared: { from: string; to: string } | null;
  grace_minutes: number;
  /** Usage younger than the grace period is still on its way to the ledger. */
  in_flight: boolean;
  /** The oldest usage not yet in the ledger is older than the grace period. */
  stalled: boolean;
  rows: AnsweredRow[];
}

/** What is not in the ledger yet, from the ledger check. */
export interface LedgerBacklog {
  oldestStreamEntryMs: number | null;
  oldestPendingReplayMs: number | null;
  streamEntries: number | null;
}

const dayEndMs = (day: string) => Date.parse(`${day}T00:00:00Z`) + 86_400_000;

/** Every `YYYY-MM-DD` from `from` (inclusive) to `to` (exclusive), at most `MAX_REDIS_DAYS` of them. */
export function daysBetween(from: string, to: string): string[] {
  const days: string[] = [];
  const cursor = new Date(`${from}T00:00:00Z`);
  const end = Date.parse(`${to}T00:00:00Z`);
  while (cursor.getTime() < end && days.length < MAX_REDIS_DAYS) {
    days.push(cursor.toISOString().slice(0, 10));
    cursor.setUTCDate(cursor.getUTCDate() + 1);
  }
  return days;
}

export async function checkAnsweredUnits(
  { db, redis }: { db: DatabaseAdapter; redis: RedisAdapter },
  query: { from: Date; to: Date; customer?: string; graceMs?: number; nowMs?: number },
  ledger: LedgerBacklog,
): Promise<AnsweredCheck> {
  const nowMs = query.nowMs ?? Date.now();
  const graceMs = query.graceMs ?? DEFAULT_ANSWERED_GRACE_MS;
  const since = await redis.answeredSince().catch(() => undefined);
  const database = checkSchema.parse(
    await db.rpc<unknown>("answered_units_check", {
      p_from: query.from.toISOString(),
      p_to: query.to.toISOString(),
      p_customer: query.customer ?? null,
      p_unsent_before: new Date(nowMs - graceMs).toISOString(),
      p_since: since ? new Date(since).toISOString() : null,
    }),
  );
  const { days_from: daysFrom, days_to: daysTo } = database;
  const days = daysFrom && daysTo ? daysBetween(daysFrom, daysTo) : [];
  const fromRedis =
    since === undefined
      ? null
      : await Promise.all(days.map(async (day) => ({ day, counts: await redis.answeredUnits(day) }))).catch(
          () => null,
        );

  const rows = new Map<string, AnsweredRow & { lastDay: string }>();
  const rowOf = (customer: string, day: string) => {
    const period = day.slice(0, 7);
    const key = `${customer} ${period}`;
    let row = rows.get(key);
    if (!row) {
      row = {
        stripe_customer_id: customer,
        period,
        answered: 0,
        billed: 0,
        difference: 0,
        unsent: 0,
        matches: true,
        lastDay: day,
      };
      rows.set(key, row);
    }
    if (day > row.lastDay) row.lastDay = day;
    return row;
  };
  for (const row of database.billed) rowOf(row.stripe_customer_id, row.day).billed += row.units;
  for (const row of database.answered) rowOf(row.stripe_customer_id, row.day).answered += row.units;
  for (const { day, counts } of fromRedis ?? []) {
    for (const [customer, units] of Object.entries(counts)) {
      if (!query.customer || customer === query.customer) rowOf(customer, day).answered += units;
    }
  }
  // Unsent usage is counted per month; it always fails the check, in flight or not.
  for (const row of database.unsent) rowOf(row.stripe_customer_id, `${row.period}-01`).unsent += row.units;

  const ages = [ledger.oldestStreamEntryMs, ledger.oldestPendingReplayMs].filter((ms) => ms !== null);
  const stalled = ages.some((ms) => nowMs - ms >= graceMs);
  const inFlight = !stalled && (ages.length > 0 || ledger.streamEntries === null);
  let mismatched = false;
  let waiting = false;
  const sorted = [...rows.values()].sort((a, b) =>
    a.stripe_customer_id === b.stripe_customer_id
      ? a.period.localeCompare(b.period)
      : a.stripe_customer_id.localeCompare(b.stripe_customer_id),
  );
  for (const row of sorted) {
    row.difference = row.billed - row.answered;
    row.matches = row.difference === 0 && row.unsent === 0;
    if (row.matches) continue;
    // Usage still on its way can only belong to a day that ended within the grace period.
    if (row.unsent === 0 && inFlight && dayEndMs(row.lastDay) > nowMs - graceMs) waiting = true;
    else mismatched = true;
  }
  const status =
    fromRedis === null
      ? "unavailable"
      : mismatched || stalled
        ? "mismatch"
        : waiting
          ? "in_flight"
          : days.length === 0
            ? "not_compared"
            : "balanced";
  return {
    balanced: status === "balanced" || status === "not_compared",
    status,
    days_compared: daysFrom && daysTo && days.length > 0 ? { from: daysFrom, to: daysTo } : null,
    grace_minutes: graceMs / 60_000,
    in_flight: inFlight,
    stalled,
    rows: sorted.map(({ lastDay: _lastDay, ...row }) => row),
  };
}
