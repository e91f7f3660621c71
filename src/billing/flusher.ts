/**
 * The usage flusher: moves admitted usage from the Redis usage stream to Stripe billing meters,
 * exactly once. Run by the cron trigger (every minute) and by `POST /admin/flush`.
 *
 * One run:
 * 1. Replays usage recorded in Postgres while Redis was down (`replayPendingUsage`).
 * 2. Ingests: reads the stream through the consumer group (reclaiming entries a dead run left
 *    pending), records billable entries in the Postgres ledger (idempotent per id and kind), and
 *    only then acknowledges and deletes them from the stream. A crash before the acknowledgement
 *    leaves them pending; a later run reclaims them and the ledger ignores the repeat.
 * 3. Forms batches: settled, unbatched records, one batch per Stripe customer and month, netted,
 *    written to Postgres with their meter event identifier BEFORE anything is sent.
 * 4. Sends: leases due batches, sends one meter event per batch with the batch's identifier
 *    (through the shared circuit breaker), and records the answer: sent, retry later, or
 *    dead-lettered. A crash after Stripe accepted but before recording leaves the batch leased; after
 *    the lease it is sent again with the same identifier and Stripe's duplicate answer marks it sent.
 *
 * Each run stops at its time budget, its record budget and its event budget, when the breaker is
 * open, on a 429, or after a round with a transient Stripe failure; the next run continues.
 */
import { describeRedisError, type RedisAdapter, type UsageStreamEntry } from "../adapters/redis";
import type { StripeAdapter } from "../adapters/stripe";
import type { DatabaseAdapter } from "../adapters/supabase";
import { type ReplayResult, replayPendingUsage } from "../admission/pending-usage";
import type { Config } from "../config";
import { describeError, log } from "../lib/log";
import { StripeBreaker } from "./breaker";
import {
  type BatchSettlement,
  type ClaimedBatch,
  claimBatches,
  formBatches,
  ingestUsageSplitting,
  settleBatches,
} from "./ledger";
import { classifyMeterError, type MeterOutcome } from "./meter-outcome";
import { classifyUsageEntry, type LedgerRecord } from "./usage-entry";

/** Settings of a run, from the configuration (see config.ts for each default). */
export type FlushSettings = Pick<
  Config,
  | "STRIPE_METER_EVENT_NAME"
  | "FLUSH_TIME_BUDGET_MS"
  | "FLUSH_MAX_RECORDS"
  | "FLUSH_MAX_EVENTS"
  | "FLUSH_CONCURRENCY"
  | "FLUSH_SETTLE_SECONDS"
  | "FLUSH_RECLAIM_IDLE_MS"
  | "FLUSH_RETRY_DELAY_SECONDS"
  | "STRIPE_BREAKER_FAILURE_THRESHOLD"
  | "STRIPE_BREAKER_OPEN_SECONDS"
>;

/**
 * Fault-injection points for tests: a hook that throws makes the run die exactly there, as a
 * Worker killed mid-run would (nothing after it happens).
 */
export interface FlushHooks {
  /** After the ledger committed a chunk of entries, before they are acknowledged in Redis. */
  afterIngest?(entryIds: string[]): void | Promise<void>;
  /** After Stripe accepted a batch, before the ledger marks it sent. */
  afterAccepted?(batchId: string): void | Promise<void>;
}

export interface FlushDeps {
  redis: RedisAdapter;
  db: DatabaseAdapter;
  stripe: StripeAdapter;
  settings: FlushSettings;
  hooks?: FlushHooks;
  /** Clock in ms. Default Date.now. */
  now?: () => number;
  /** How long claimed batches stay reserved for this run. Default 60 s (far above one send's timeout). */
  leaseSeconds?: number;
}

export type FlushStop =
  | "drained"
  | "time_budget"
  | "event_budget"
  | "breaker_open"
  | "rate_limited"
  | "stripe_failing"
  | "database_unavailable";

/** What one run did; logged as one line and returned by `POST /admin/flush`. */
export interface FlushReport {
  run_id: string;
  started_at: string;
  duration_ms: number;
  replay: ReplayResult | null;
  /** Stream entries read (reclaimed included), and how many were reclaimed from a dead run. */
  read: number;
  reclaimed: number;
  /** Records newly written to the ledger; duplicates were already there. */
  ingested: number;
  duplicates: number;
  free_skipped: number;
  poison: number;
  acknowledged: number;
  /** True when records are still waiting in the stream past this run's record budget or a failure. */
  stream_backlog: boolean;
  batches_formed: number;
  events_attempted: number;
  sent: number;
  already_accepted: number;
  units_sent: number;
  retried: number;
  dead_lettered: number;
  breaker: string;
  stopped: FlushStop;
  errors: string[];
}

/** A hook's throw, carried past the run's own error handling: the run dies there, as a killed Worker would. */
class RunKilled extends Error {
  constructor(readonly reason: unknown) {
    super("flush run killed by a hook");
  }
}

async function callHook(hook: (() => void | Promise<void>) | undefined): Promise<void> {
  if (!hook) return;
  try {
    await hook();
  } catch (error) {
    throw new RunKilled(error);
  }
}

/** Stream entries read per round trip. */
const READ_CHUNK = 500;
const DEFAULT_LEASE_SECONDS = 60;
/** Idle time after which other empty consumers are removed from the group. */
const STALE_CONSUMER_MS = 60 * 60 * 1000;

/** A run id that sorts by time: also this run's consumer name in the group. */
export function newRunId(nowMs: number): string {
  return `flush-${new Date(nowMs).toISOString().replace(/[-:.]/g, "")}-${crypto.randomUUID().slice(0, 8)}`;
}

/** One flush run; never throws for an outside failure (it is logged and reported), only for a hook's throw. */
export async function flushUsage(deps: FlushDeps): Promise<FlushReport> {
  try {
    return await runFlush(deps);
  } catch (error) {
    throw error instanceof RunKilled ? error.reason : error;
  }
}

async function runFlush(deps: FlushDeps): Promise<FlushReport> {
  const now = deps.now ?? Date.now;
  const started = now();
  const deadline = started + deps.settings.FLUSH_TIME_BUDGET_MS;
  const report: FlushReport = {
    run_id: newRunId(started),
    started_at: new Date(started).toISOString(),
    duration_ms: 0,
    replay: null,
    read: 0,
    reclaimed: 0,
    ingested: 0,
    duplicates: 0,
    free_skipped: 0,
    poison: 0,
    acknowledged: 0,
    stream_backlog: false,
    batches_formed: 0,
    events_attempted: 0,
    sent: 0,
    already_accepted: 0,
    units_sent: 0,
    retried: 0,
    dead_lettered: 0,
    breaker: "unknown",
    stopped: "drained",
    errors: [],
  };
  const breaker = new StripeBreaker(deps.redis, {
    failureThreshold: deps.settings.STRIPE_BREAKER_FAILURE_THRESHOLD,
    openSeconds: deps.settings.STRIPE_BREAKER_OPEN_SECONDS,
    now,
  });

  try {
    report.replay = await replayPendingUsage({ db: deps.db, redis: deps.redis });
  } catch (error) {
    report.errors.push(`replay: ${describeError(error)}`);
  }

  await ingestStream(deps, report, deadline, now);

  try {
    // Several rounds only when a round hit its record cap; each round is one transaction.
    for (let round = 0; round < 5 && now() < deadline; round++) {
      const formed = await formBatches(
        deps.db,
        deps.settings.FLUSH_SETTLE_SECONDS,
        deps.settings.FLUSH_MAX_RECORDS,
      );
      report.batches_formed += formed.batches;
      if (formed.records < deps.settings.FLUSH_MAX_RECORDS) break;
    }
    await sendBatches(deps, report, breaker, deadline, now);
  } catch (error) {
    if (error instanceof RunKilled) throw error;
    report.errors.push(`ledger: ${describeError(error)}`);
    report.stopped = "database_unavailable";
  }

  try {
    await deps.redis.releaseUsageConsumer(report.run_id, STALE_CONSUMER_MS);
  } catch {
    // Housekeeping only: an empty consumer left behind is removed by a later run.
  }
  report.breaker = breaker.state;
  report.duration_ms = now() - started;
  log(report.errors.length > 0 || report.dead_lettered > 0 ? "warn" : "info", "usage flush finished", {
    run_id: report.run_id,
    duration_ms: report.duration_ms,
    read: report.read,
    reclaimed: report.reclaimed,
    ingested: report.ingested,
    duplicates: report.duplicates,
    poison: report.poison,
    batches_formed: report.batches_formed,
    sent: report.sent,
    already_accepted: report.already_accepted,
    units_sent: report.units_sent,
    retried: report.retried,
    dead_lettered: report.dead_lettered,
    breaker: report.breaker,
    stopped: report.stopped,
    errors: report.errors.join("; ") || undefined,
  });
  return report;
}

async function ingestStream(deps: FlushDeps, report: FlushReport, deadline: number, now: () => number) {
  const { redis, db, settings, hooks } = deps;
  while (report.read < settings.FLUSH_MAX_RECORDS) {
    if (now() >= deadline) {
      report.stopped = "time_budget";
      report.stream_backlog = true;
      return;
    }
    let entries: UsageStreamEntry[];
    try {
      const read = await redis.readUsageForFlush({
        consumer: report.run_id,
        count: Math.min(READ_CHUNK, settings.FLUSH_MAX_RECORDS - report.read),
        minIdleMs: settings.FLUSH_RECLAIM_IDLE_MS,
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

async function sendBatches(
  deps: FlushDeps,
  report: FlushReport,
  breaker: StripeBreaker,
  deadline: number,
  now: () => number,
) {
  const { db, settings } = deps;
  while (true) {
    if (now() >= deadline) {
      report.stopped = "time_budget";
      return;
    }
    const budget = settings.FLUSH_MAX_EVENTS - report.events_attempted;
    if (budget <= 0) {
      report.stopped = "event_budget";
      return;
    }
    const permit = await breaker.acquire();
    if (permit === "refused") {
      report.stopped = "breaker_open";
      return;
    }
    // Half-open: exactly one probe event, then the breaker decides.
    const batches = await claimBatches(
      db,
      report.run_id,
      permit === "probe" ? 1 : Math.min(settings.FLUSH_CONCURRENCY, budget),
      deps.leaseSeconds ?? DEFAULT_LEASE_SECONDS,
    );
    if (batches.length === 0) return;
    report.events_attempted += batches.length;

    const outcomes = await Promise.all(batches.map((batch) => sendBatch(deps, batch)));
    const settlements: BatchSettlement[] = [];
    let breakerFailures = 0;
    let rateLimited = false;
    for (const [i, outcome] of outcomes.entries()) {
      const batch = batches[i] as ClaimedBatch;
      if (outcome.kind === "accepted" || outcome.kind === "already_accepted") {
        await callHook(deps.hooks?.afterAccepted && (() => deps.hooks?.afterAccepted?.(batch.id)));
        settlements.push({ id: batch.id, outcome: "sent" });
        if (outcome.kind === "accepted") report.sent += 1;
        else report.already_accepted += 1;
        report.units_sent += batch.units;
      } else if (outcome.kind === "retry") {
        if (outcome.breakerFailure) breakerFailures += 1;
        if (outcome.rateLimited) rateLimited = true;
        report.retried += 1;
        settlements.push({
          id: batch.id,
          outcome: "retry",
          error: outcome.reason,
          retry_after_seconds: Math.max(outcome.retryAfterSeconds ?? 0, settings.FLUSH_RETRY_DELAY_SECONDS),
        });
      } else {
        report.dead_lettered += 1;
        log("error", "meter event rejected; batch dead-lettered", {
          run_id: report.run_id,
          batch_id: batch.id,
          stripe_customer_id: batch.stripe_customer_id,
          units: batch.units,
          reason: outcome.reason,
        });
        settlements.push({ id: batch.id, outcome: "dead", error: outcome.reason });
      }
    }
    await settleBatches(db, report.run_id, settlements);
    await breaker.report(breakerFailures);
    if (rateLimited) {
      report.stopped = "rate_limited";
      return;
    }
    // Stripe is failing: leave the rest to the next run (and the breaker) instead of resending now.
    if (breakerFailures > 0) {
      report.stopped = "stripe_failing";
      return;
    }
  }
}

async function sendBatch(deps: FlushDeps, batch: ClaimedBatch): Promise<MeterOutcome> {
  try {
    await deps.stripe.reportMeterEvent({
      eventName: deps.settings.STRIPE_METER_EVENT_NAME,
      stripeCustomerId: batch.stripe_customer_id,
      value: batch.units,
      identifier: batch.id,
      timestamp: batch.event_timestamp,
    });
    return { kind: "accepted" };
  } catch (error) {
    return classifyMeterError(error);
  }
}
