import { describeError, log } from "../lib/log";
import { replayPendingUsage } from "../metering/pending-usage";
import { StripeBreaker } from "./breaker";
import { drainStream } from "./drain-stream";
import { callHook, type FlushDeps, type FlushReport, RunKilled } from "./flush-run";
import { type BatchSettlement, type ClaimedBatch, claimBatches, formBatches, settleBatches } from "./ledger";
import { type MeterEventPart, meterEventParts } from "./meter-event-parts";
import { classifyMeterError, type MeterOutcome } from "./meter-outcome";

export type { FlushDeps, FlushHooks, FlushReport, FlushSettings, FlushStop } from "./flush-run";

const DEFAULT_LEASE_SECONDS = 60;
/** Buckets grouped per batch-forming transaction (ledger_form_batches caps it at 50,000). */
const FORM_CHUNK = 50_000;

/** A run id that sorts by time (the lease holder's name in Postgres). */
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
  const deadline = started + deps.settings.timeBudgetMs;
  const report: FlushReport = {
    run_id: newRunId(started),
    started_at: new Date(started).toISOString(),
    duration_ms: 0,
    replay: null,
    read: 0,
    ingested: 0,
    duplicates: 0,
    free_skipped: 0,
    poison: 0,
    acknowledged: 0,
    orphan_compensations: 0,
    drain_ms: 0,
    buckets_sealed: 0,
    buckets_moved: 0,
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
    failureThreshold: deps.settings.breakerFailureThreshold,
    openSeconds: deps.settings.breakerOpenSeconds,
    now,
  });

  try {
    report.replay = await replayPendingUsage({ db: deps.db, redis: deps.redis });
  } catch (error) {
    report.errors.push(`replay: ${describeError(error)}`);
  }

  await drainStream(deps, report, deadline, now);

  try {
    // Rounds of at most FORM_CHUNK buckets (one transaction each) until one is not full.
    const chunk = FORM_CHUNK;
    while (now() < deadline) {
      const formed = await formBatches(deps.db, deps.settings.settleSeconds, chunk);
      report.batches_formed += formed.batches;
      if (formed.records < chunk) break;
    }
    await sendBatches(deps, report, breaker, deadline, now);
  } catch (error) {
    if (error instanceof RunKilled) throw error;
    report.errors.push(`ledger: ${describeError(error)}`);
    report.stopped = "database_unavailable";
  }

  report.breaker = breaker.state;
  report.duration_ms = now() - started;
  log(report.errors.length > 0 || report.dead_lettered > 0 ? "warn" : "info", "usage flush finished", {
    run_id: report.run_id,
    duration_ms: report.duration_ms,
    read: report.read,
    ingested: report.ingested,
    duplicates: report.duplicates,
    poison: report.poison,
    orphan_compensations: report.orphan_compensations,
    drain_ms: report.drain_ms,
    buckets_sealed: report.buckets_sealed,
    buckets_moved: report.buckets_moved,
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
    const budget = settings.maxEvents - report.events_attempted;
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
      permit === "probe" ? 1 : Math.min(settings.concurrency, budget),
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
          retry_after_seconds: Math.max(outcome.retryAfterSeconds ?? 0, settings.retryDelaySeconds),
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

/**
 * Sends a batch as its meter events (one, or several parts when its units exceed 15 digits), one
 * after the other: Stripe takes one call in flight per customer. Accepted only when every part is.
 */
async function sendBatch(deps: FlushDeps, batch: ClaimedBatch): Promise<MeterOutcome> {
  let parts: MeterEventPart[];
  try {
    parts = meterEventParts(batch.id, batch.units);
  } catch (error) {
    return { kind: "rejected", reason: describeError(error) };
  }
  let fresh = false;
  for (const part of parts) {
    try {
      await deps.stripe.reportMeterEvent({
        eventName: deps.settings.meterEventName,
        stripeCustomerId: batch.stripe_customer_id,
        value: part.value,
        identifier: part.identifier,
        timestamp: batch.event_timestamp,
      });
      fresh = true;
    } catch (error) {
      const outcome = classifyMeterError(error);
      if (outcome.kind === "already_accepted") continue;
      return outcome;
    }
  }
  return { kind: fresh ? "accepted" : "already_accepted" };
}
