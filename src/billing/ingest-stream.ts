/**
 * Step 2 of a flush run: reads the usage stream through the consumer group (reclaiming entries a
 * dead run left pending), records billable entries in the Postgres ledger (idempotent per id and
 * kind), and only then acknowledges and deletes them from the stream. Malformed entries and entries
 * Postgres refuses are dead-lettered with their reason; they never hold back the rest.
 */
import { describeRedisError } from "../adapters/redis";
import { describeError, log } from "../lib/log";
import type { UsageStreamEntry } from "../metering/usage-record";
import { callHook, type FlushDeps, type FlushReport } from "./flush-run";
import { ingestUsageSplitting } from "./ledger";
import { classifyUsageEntry, type LedgerRecord } from "./usage-entry";

/**
 * Stream entries read per round trip (and ingested per Postgres call): 1,000 entries are about
 * 250 KB, well inside Upstash's and PostgREST's request limits, and a run of FLUSH_MAX_RECORDS
 * (300,000) costs 900 subrequests (read, ingest, acknowledge).
 */
const READ_CHUNK = 1000;

export async function ingestStream(
  deps: FlushDeps,
  report: FlushReport,
  deadline: number,
  now: () => number,
) {
  const { redis, db, settings, hooks } = deps;
  while (report.read < settings.maxRecords) {
    if (now() >= deadline) {
      report.stopped = "time_budget";
      report.stream_backlog = true;
      return;
    }
    let entries: UsageStreamEntry[];
    try {
      const read = await redis.readUsageForFlush({
        consumer: report.run_id,
        count: Math.min(READ_CHUNK, settings.maxRecords - report.read),
        minIdleMs: settings.reclaimIdleMs,
      });
      entries = read.entries;
      report.reclaimed += read.reclaimed;
    } catch (error) {
      // Redis down: the ledger already holds everything acknowledged; carry on with sending.
      report.errors.push(`stream read: ${describeRedisError(error)}`);
      report.stream_backlog = true;
      return;
    }
    if (entries.length === 0) return;
    report.read += entries.length;

    const records: LedgerRecord[] = [];
    let handled: string[] = [];
    const poison: { entry: UsageStreamEntry; reason: string }[] = [];
    const byEntryId = new Map(entries.map((entry) => [entry.entryId, entry]));
    for (const entry of entries) {
      const classified = classifyUsageEntry(entry);
      if (classified.type === "billable") {
        records.push(classified.record);
        handled.push(entry.entryId);
      } else if (classified.type === "free") {
        report.free_skipped += 1;
        handled.push(entry.entryId);
      } else {
        poison.push({ entry, reason: classified.reason });
      }
    }
    try {
      const ingested = await ingestUsageSplitting(db, records);
      report.ingested += ingested.inserted;
      report.duplicates += ingested.duplicates;
      // What the classifier let through but Postgres refuses: dead-lettered with the database's
      // reason, so that one entry can never hold back the ones behind it.
      const refused = new Set<string>();
      for (const { record, reason } of ingested.refused) {
        const entry = byEntryId.get(record.stream_entry_id);
        if (!entry) continue;
        refused.add(entry.entryId);
        poison.push({ entry, reason });
      }
      if (refused.size > 0) handled = handled.filter((entryId) => !refused.has(entryId));
    } catch (error) {
      // Not acknowledged: the entries stay pending and a later run reclaims them.
      report.errors.push(`ledger ingest: ${describeError(error)}`);
      report.stream_backlog = true;
      report.stopped = "database_unavailable";
      return;
    }
    await callHook(hooks?.afterIngest && (() => hooks.afterIngest?.(entries.map((entry) => entry.entryId))));
    try {
      const acked = await redis.acknowledgeUsage(handled, poison);
      report.acknowledged += acked.acknowledged;
      report.poison += acked.deadLettered;
      if (poison.length > 0) {
        log("error", "malformed usage entries dead-lettered", {
          run_id: report.run_id,
          count: poison.length,
          entry_ids: poison
            .slice(0, 20)
            .map((p) => p.entry.entryId)
            .join(","),
          reasons: [...new Set(poison.map((p) => p.reason))].join("; "),
        });
      }
    } catch (error) {
      // Recorded but not acknowledged: harmless (reclaimed later, ignored as duplicates by the ledger).
      report.errors.push(`stream ack: ${describeRedisError(error)}`);
      report.stream_backlog = true;
      return;
    }
  }
  report.stream_backlog = true;
}
