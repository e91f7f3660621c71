/**
 * `npm run usage-batches`: the flusher's meter-event batches, for operators.
 *
 *   npm run usage-batches -- list [--status pending|sent|netted|dead] [--limit 100] [--json]
 *   npm run usage-batches -- requeue <batch id>
 *   npm run usage-batches -- reenter '<a "usage record lost" or "unconfirmed" log line>'
 *
 * `requeue` puts a dead-lettered batch back in the queue with the same identifier, once its cause
 * is fixed (e.g. the customer now exists in Stripe); the next flush (cron, or POST /admin/flush)
 * sends it. Same as `POST /admin/usage-batches/<id>/requeue`. Postgres: DATABASE_URL (e.g.
 * Supabase's connection string), else the dev database of `npm run dev`.
 * `reenter` puts a usage record that a log line reports lost (both Redis and Postgres were
 * unreachable) back on the durable path, under its own usage id: the next flush replays it, and
 * since the ledger keys records by (usage id, kind), one that did get through is not counted twice.
 * Exit codes: 0 done, 1 failed or not requeued (unknown batch, not dead-lettered), 2 usage error.
 */
import { z } from "zod";
import {
  listUsageBatches,
  requeueUsageBatch,
  USAGE_BATCH_STATUSES,
  type UsageBatchStatus,
} from "../src/billing/usage-batches";
import { recordPendingUsage } from "../src/metering/pending-usage";
import { connectDatabase, parseArgs, say } from "./lib/access-cli";

const USAGE = `usage: npm run usage-batches -- list [--status ${USAGE_BATCH_STATUSES.join("|")}] [--limit n] [--json]
       npm run usage-batches -- requeue <batch id>
       npm run usage-batches -- reenter '<log line>'`;

/** The record fields of a "usage record lost" / "unconfirmed" log line. */
const lostRecordLine = z.object({
  usage_id: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/),
  kind: z.enum(["admit", "compensate"]),
  request_id: z.string().min(1).max(255),
  subject: z.string().min(1).max(255),
  stripe_customer_id: z.string().min(1).max(255).nullable(),
  tier: z.string().min(1).max(255),
  units: z.number().int(),
  occurred_at: z.iso.datetime(),
  // A compensation of an admission the Worker saw admitted (settle.ts logs it); absent in old lines.
  certain: z.boolean().default(false),
});

class UsageError extends Error {}

async function main(): Promise<number> {
  const { words, flags } = parseArgs(process.argv.slice(2));
  const [command, ...rest] = words;
  if (command === "list") {
    const status = flags.status as UsageBatchStatus | undefined;
    if (status !== undefined && !USAGE_BATCH_STATUSES.includes(status)) throw new UsageError(USAGE);
    const limit = flags.limit === undefined ? 100 : Number(flags.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError(USAGE);
    const { db, close } = await connectDatabase();
    try {
      const batches = await listUsageBatches(db, { status, limit });
      if (flags.json) {
        console.log(JSON.stringify(batches, null, 2));
        return 0;
      }
      for (const b of batches) {
        const why = b.status === "dead" ? ` dead since ${b.dead_at}: ${b.dead_reason}` : "";
        console.log(
          `${b.id}  ${b.status}  ${b.stripe_customer_id}  ${b.period}  ${b.units} units  ${b.record_count} records  ${b.attempts} attempts${why}`,
        );
      }
      say(`${batches.length} batch${batches.length === 1 ? "" : "es"}${status ? ` ${status}` : ""}`);
      return 0;
    } finally {
      await close();
    }
  }
  if (command === "requeue") {
    const [id] = rest;
    if (!id || rest.length !== 1) throw new UsageError(USAGE);
    const { db, close } = await connectDatabase();
    try {
      const result = await requeueUsageBatch(db, id);
      if (result.outcome === "not_found") {
        say(`no usage batch ${id}`);
        return 1;
      }
      if (result.outcome === "not_dead") {
        say(`usage batch ${id} is ${result.batch.status}; only dead-lettered batches can be requeued`);
        return 1;
      }
      const b = result.batch;
      console.log(`requeued ${b.id} (${b.stripe_customer_id}, ${b.period}, ${b.units} units)`);
      say("the next flush (cron every minute, or POST /admin/flush) sends it");
      return 0;
    } finally {
      await close();
    }
  }
  if (command === "reenter") {
    const [line] = rest;
    if (!line || rest.length !== 1) throw new UsageError(USAGE);
    let parsed: z.infer<typeof lostRecordLine>;
    try {
      parsed = lostRecordLine.parse(JSON.parse(line));
    } catch (error) {
      say(`not a usage record log line: ${error instanceof Error ? error.message : String(error)}`);
      return 2;
    }
    const { db, close } = await connectDatabase();
    try {
      const inserted = await recordPendingUsage(
        db,
        {
          id: parsed.usage_id,
          kind: parsed.kind,
          requestId: parsed.request_id,
          subject: parsed.subject,
          stripeCustomerId: parsed.stripe_customer_id,
          tier: parsed.tier,
          units: parsed.units,
          occurredAtMs: Date.parse(parsed.occurred_at),
        },
        parsed.certain,
      );
      console.log(
        `${inserted ? "recorded" : "already recorded"} ${parsed.kind} ${parsed.usage_id} (${parsed.units} units)`,
      );
      say(
        "the next flush replays it; a usage id and kind is counted once, however often it arrives (its marker lasts 7 days)",
      );
      return 0;
    } finally {
      await close();
    }
  }
  throw new UsageError(USAGE);
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) {
      say(error.message);
      process.exit(2);
    }
    say(`usage-batches failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
