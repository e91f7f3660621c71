/**
 * Settlement: after the response, what makes the bill match the answer. A 2xx is billed as the
 * script admitted it (less the units not performed); anything else is compensated (same id,
 * negative units), into the stream, else Postgres, else a log line an operator can re-enter.
 */
import { describeRedisError, type RedisAdapter } from "../adapters/redis";
import type { DatabaseAdapter } from "../adapters/supabase";
import { log } from "../lib/log";
import type { Admission, AdmittedRequest } from "./admit";
import { withBilledCustomer } from "./billed-customer";
import { recordPendingUsage } from "./pending-usage";
import type { UsageRecord } from "./usage-record";

const isSuccess = (status: number) => status >= 200 && status < 300;

/**
 * Whether `settleAdmission` has anything to do: the common case (a live admission answered 2xx and
 * billed as admitted) is already billed by the script, so the hot path skips work after the response.
 * `billedUnits` is what the answer says it cost (less than admitted when enrichment was not performed).
 */
export function needsSettlement(admission: AdmittedRequest, status: number, billedUnits?: number): boolean {
  if (admission.record.units === 0) return false;
  if (admission.mode === "degraded" || !isSuccess(status)) return true;
  return billedUnits !== undefined && billedUnits < admission.record.units;
}

/**
 * After the response: a live admission whose response was not 2xx gets a compensating record (same
 * id, negative units); one answered 2xx that cost less than admitted (`billedUnits`: enrichment asked
 * for but not performed) gets a compensation of the difference. A degraded admission is recorded in
 * Postgres when it succeeded (with that difference compensated beside it), and a compensation is
 * recorded when it did not (the timed-out script may have run after all; the drain ignores a
 * compensation whose admission it never saw). Run it in `waitUntil`; never throws.
 */
export async function settleAdmission(
  deps: { redis: RedisAdapter; db: DatabaseAdapter },
  admission: AdmittedRequest,
  status: number,
  billedUnits: number = admission.record.units,
): Promise<void> {
  if (!needsSettlement(admission, status, billedUnits)) return;
  const { record, mode } = admission;
  const refund = isSuccess(status) ? record.units - Math.max(0, billedUnits) : record.units;
  // A live admission's answer was seen: its compensation is certain (the drain nets it as is).
  if (mode === "live") return refund > 0 ? compensate(deps, record, refund, true) : undefined;
  if (isSuccess(status)) {
    await recordDurably(deps.db, record, admission.mayBeInStream);
    // Certain too: it nets the admission recorded just above (or the script's copy of it).
    if (refund > 0)
      await recordDurably(deps.db, compensationOf(record, refund), admission.mayBeInStream, true);
    return;
  }
  const billed = admission.mayBeInStream ? await withBilledCustomer(deps.db, record) : record;
  await recordDurably(deps.db, compensationOf(billed), admission.mayBeInStream);
}

/**
 * After a refusal that followed a timed-out admission call (`uncertainRecord`): the script may have
 * run in Redis after the client gave up and admitted the record, so it is compensated as a live
 * admission that did not end in 2xx would be. When the script never ran, the drain ignores the
 * compensation (it never saw the admission). Run it in `waitUntil`; never throws.
 */
export async function settleRefusal(
  deps: { redis: RedisAdapter; db: DatabaseAdapter },
  refusal: Exclude<Admission, AdmittedRequest>,
): Promise<void> {
  if (refusal.outcome !== "rate_limited" && refusal.outcome !== "unavailable") return;
  if (!refusal.uncertainRecord) return;
  await compensate(deps, await withBilledCustomer(deps.db, refusal.uncertainRecord), undefined, false);
}

/** The compensation of `record`: all its units, or `units` of them (a 2xx that cost less). */
const compensationOf = (record: UsageRecord, units = record.units): UsageRecord => ({
  ...record,
  kind: "compensate",
  units: -units,
});

/**
 * The compensation of a record the script (may have) admitted: into the stream, else into Postgres.
 * `certain`: the Worker saw the admission admitted (else the drain nets it only if it counted the
 * admission: drain-usage.ts).
 */
async function compensate(
  { redis, db }: { redis: RedisAdapter; db: DatabaseAdapter },
  record: UsageRecord,
  units: number | undefined,
  certain: boolean,
) {
  const compensation = compensationOf(record, units ?? record.units);
  try {
    await redis.appendUsage(compensation, "live", certain);
  } catch (error) {
    log("warn", "compensation via redis failed; recording it in postgres", {
      request_id: record.requestId,
      usage_id: record.id,
      error: describeRedisError(error),
    });
    await recordDurably(db, compensation, false, certain);
  }
}

/**
 * Records `record` in Postgres for replay; if even that fails, logs it whole (never throws), so an
 * operator can re-enter it with `npm run usage-batches -- reenter '<log line>'`. That is safe even
 * when the record did get through: its marker refuses the second append (7 days). When the timed-out
 * admission may have recorded it in Redis, the line says so instead of calling it lost.
 */
async function recordDurably(
  db: DatabaseAdapter,
  record: UsageRecord,
  mayBeInStream = false,
  certain = false,
): Promise<void> {
  try {
    await recordPendingUsage(db, record, certain);
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
      certain,
      error: describeRedisError(error),
    });
  }
}
