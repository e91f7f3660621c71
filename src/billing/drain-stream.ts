/**
 * Step 2 of a flush run: aggregate before storing (issue 17, item 1).
 *
 * 1. Mirror new billing period boundaries into Redis, so the drain splits buckets at them.
 * 2. Drain the usage stream into usage buckets inside Redis (drain-usage.ts): chunks of
 *    DRAIN_CHUNK entries, each one atomic script, so no entry is counted twice or lost and no
 *    per-request data reaches the Worker or Postgres. The ids still waiting in Postgres for replay
 *    are passed along ("held"), so a timed-out admission's two copies count once.
 * 3. Seal the buckets that are done, move them to Postgres keyed by seal id (their batches are
 *    formed in the same transaction), and only then delete them from Redis (seal-buckets.ts). A run killed between any two of these steps leaves the
 *    sealed buckets listed in Redis; the next run moves them again, which the key makes a no-op.
 * Postgres then holds one row per customer, account and hour (sealed every FLUSH_SEAL_SECONDS at
 * most while the customer keeps calling, or while a backlog is drained over several runs),
 * whatever the number of requests.
 */
import { describeRedisError } from "../adapters/redis";
import { BOUNDARY_TTL_SECONDS } from "../adapters/redis/usage-buckets";
import { describeError, log } from "../lib/log";
import { callHook, type FlushDeps, type FlushReport } from "./flush-run";
import { boundariesSince, heldUsageIds, ingestBuckets } from "./ledger";

/**
 * Stream entries per drain script. Admission waits behind a running script, and its budget is
 * ADMISSION_TIMEOUT_MS (100 ms): measured on the 2-core bench machine under load, the script
 * drains about 50,000 entries a second, so 2,000 hold Redis about 40 ms (5,000 held it about
 * 100 ms, which could push admissions into the fallback). A run of FLUSH_MAX_RECORDS (2,000,000)
 * costs 1,000 subrequests.
 */
const DRAIN_CHUNK = 2000;
/**
 * Buckets sealed and moved per round trip (a reply of about 500 KB). A customer's buckets moved in
 * one call share one batch, so larger calls mean fewer batch rows and meter events.
 */
const SEAL_CHUNK = 2000;
/** A quiet time no bucket reaches: sealing by quiet time or by the end of its hour is off. */
const NEVER_QUIET_MS = Number.MAX_SAFE_INTEGER;
/** At most this many held ids are passed to the drain; with more waiting, draining waits for the replay. */
const MAX_HELD_IDS = 5000;

export async function drainStream(deps: FlushDeps, report: FlushReport, deadline: number, now: () => number) {
  const { redis, db, settings, hooks } = deps;
  let cursor: number | null;
  try {
    cursor = await redis.billingBoundariesCursor();
  } catch (error) {
    // Redis down: everything drained so far is in buckets or Postgres; carry on with sending.
    report.errors.push(`stream drain: ${describeRedisError(error)}`);
    report.stream_backlog = true;
    return;
  }
  try {
    await syncBoundaries(deps, cursor, now);
  } catch (error) {
    // Without new boundaries a bucket could straddle a renewal: wait for them rather than drain.
    report.errors.push(`billing boundaries: ${describeError(error)}`);
    report.stream_backlog = true;
    report.stopped = "database_unavailable";
    return;
  }
  let held: string[];
  try {
    held = await heldUsageIds(db, MAX_HELD_IDS + 1);
  } catch (error) {
    report.errors.push(`pending usage ids: ${describeError(error)}`);
    report.stream_backlog = true;
    report.stopped = "database_unavailable";
    return;
  }
  if (held.length > MAX_HELD_IDS) {
    // The replay is behind: draining now could meet an admission before its replay is known.
    report.errors.push(`more than ${MAX_HELD_IDS} records wait for replay; draining after the replay`);
    report.stream_backlog = true;
  } else {
    const started = now();
    // The drain stops early enough to leave the run time to seal and move what it drained.
    await drainChunks(deps, report, held, deadline - Math.min(10_000, settings.timeBudgetMs / 4), now);
    report.drain_ms += now() - started;
  }

  // Seal and move even when the drain stopped: what is drained must reach Postgres. While the
  // stream has a backlog, more of each customer's records are still to come from it: a bucket is
  // then sealed only once open FLUSH_SEAL_SECONDS, not for being quiet or its hour being over, so a
  // backlog drained over several runs adds to the same buckets instead of sealing a new one per run.
  const quietMs = report.stream_backlog ? NEVER_QUIET_MS : settings.settleSeconds * 1000;
  while (now() < deadline) {
    let sealed: Awaited<ReturnType<typeof redis.sealUsageBuckets>>;
    try {
      sealed = await redis.sealUsageBuckets({
        nowMs: now(),
        quietMs,
        openMostMs: settings.sealSeconds * 1000,
        limit: SEAL_CHUNK,
      });
    } catch (error) {
      report.errors.push(`seal buckets: ${describeRedisError(error)}`);
      return;
    }
    report.buckets_sealed += sealed.sealed;
    if (sealed.buckets.length === 0) return;
    const ids = sealed.buckets.map((bucket) => bucket.id);
    await callHook(hooks?.afterSeal && (() => hooks.afterSeal?.(ids)));
    try {
      const moved = await ingestBuckets(db, sealed.buckets);
      report.buckets_moved += moved.inserted;
      report.batches_formed += moved.batches;
    } catch (error) {
      // Not deleted: the sealed buckets stay listed in Redis and the next run moves them.
      report.errors.push(`move buckets: ${describeError(error)}`);
      report.stopped = "database_unavailable";
      return;
    }
    await callHook(hooks?.afterMove && (() => hooks.afterMove?.(ids)));
    try {
      await redis.releaseUsageBuckets(ids);
    } catch (error) {
      // Moved but not deleted: harmless, the next run moves them again (a no-op) and deletes them.
      report.errors.push(`release buckets: ${describeRedisError(error)}`);
      return;
    }
    if (sealed.buckets.length < SEAL_CHUNK && sealed.sealed < SEAL_CHUNK) return;
  }
}

async function drainChunks(
  deps: FlushDeps,
  report: FlushReport,
  held: string[],
  deadline: number,
  now: () => number,
) {
  const { redis, settings, hooks } = deps;
  while (report.read < settings.maxRecords) {
    if (now() >= deadline) {
      report.stopped = "time_budget";
      report.stream_backlog = true;
      return;
    }
    const nowMs = now();
    const wanted = Math.min(DRAIN_CHUNK, settings.maxRecords - report.read);
    let chunk: Awaited<ReturnType<typeof redis.drainUsage>>;
    try {
      chunk = await redis.drainUsage({
        maxEntries: wanted,
        newestMs: nowMs - settings.settleSeconds * 1000,
        nowMs,
        heldIds: held,
      });
    } catch (error) {
      // Redis down: nothing of this chunk happened (one script); the entries wait in the stream.
      report.errors.push(`stream drain: ${describeRedisError(error)}`);
      report.stream_backlog = true;
      return;
    }
    report.read += chunk.entries;
    report.acknowledged += chunk.entries;
    report.ingested += chunk.billable - chunk.duplicates;
    report.duplicates += chunk.duplicates;
    report.free_skipped += chunk.free;
    report.poison += chunk.poison;
    report.orphan_compensations += chunk.orphans;
    if (chunk.poison > 0) {
      log("error", "malformed usage entries dead-lettered", { run_id: report.run_id, count: chunk.poison });
    }
    await callHook(hooks?.afterDrain && (() => hooks.afterDrain?.(chunk.entries)));
    // A chunk shorter than asked for is the stream's end (a full one under FLUSH_MAX_RECORDS is not).
    if (chunk.entries < wanted) return;
  }
  report.stream_backlog = true;
}

/** Mirrors the billing period boundaries recorded since the last run (all of the last 40 days after a Redis loss). */
async function syncBoundaries({ redis, db }: FlushDeps, cursor: number | null, now: () => number) {
  const since = new Date(cursor ?? now() - BOUNDARY_TTL_SECONDS * 1000);
  const { boundaries, latest } = await boundariesSince(db, since);
  if (boundaries.length === 0 && cursor !== null) return;
  await redis.syncBillingBoundaries(boundaries, latest ? Date.parse(latest) : since.getTime());
}
