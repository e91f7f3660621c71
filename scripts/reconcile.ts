/**
 * `npm run reconcile`: the billing reconciliation for operators, per Stripe customer and UTC month,
 * two checks:
 * 1. the ledger: units admitted, compensated, reported, pending and dead-lettered, and whether
 *    admitted - compensated = reported + pending + dead-lettered;
 * 2. answered units: the units the Worker answered 2xx (counted apart from the usage records) against
 *    the units the ledger bills, and ledger usage older than the grace period not yet in Stripe.
 * Exits 1 when either is off (or cannot be concluded: usage in flight, Redis unreadable).
 *
 *   npm run reconcile -- [--from 2026-05-01] [--to 2026-06-01] [--customer cus_...]
 *     [--grace-minutes 15] [--json]
 *
 * --grace-minutes: how old usage may be and still be on its way (default 15); 0 after a drained
 * flush, to make every difference count.
 * Default period: the current UTC month. Postgres: DATABASE_URL (e.g. Supabase's connection
 * string), else the dev database of `npm run dev`. Redis (for entries not yet in the ledger):
 * UPSTASH_REDIS_REST_URL/TOKEN, else REDIS_URL or 127.0.0.1:6379; skipped when unreachable.
 */
import { createUnreachableRedisAdapter } from "../src/adapters/redis";
import { reconcileUsage } from "../src/billing/reconciliation";
import { connectDatabase, connectRedis, parseArgs, say } from "./lib/access-cli";

function instant(text: string | undefined, fallback: Date): Date {
  if (!text) return fallback;
  const date = new Date(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text);
  if (Number.isNaN(date.getTime())) throw new Error(`not a date: ${text}`);
  return date;
}

const ANSWERED_VERDICTS = {
  balanced: "answered balanced: every unit billed was answered 2xx, every unit answered 2xx is billed",
  mismatch:
    "ANSWERED NOT BALANCED: a positive difference is billed without a 2xx, a negative one answered but not billed; unsent is usage stuck before Stripe",
  not_compared:
    "answered not compared: no whole UTC day in the range was counted whole (counting began during it, or the range cuts it)",
  in_flight:
    "NOT CONCLUDED: usage younger than the grace period is still on its way; re-run after the next flush",
  unavailable: "NOT CONCLUDED: Redis's answered-unit counts could not be read",
} as const;

function printTable(columns: string[], lines: unknown[][]) {
  const widths = columns.map((c, i) => Math.max(c.length, ...lines.map((l) => String(l[i]).length)));
  const format = (cells: unknown[]) => cells.map((cell, i) => String(cell).padEnd(widths[i] ?? 0)).join("  ");
  console.log(format(columns));
  for (const line of lines) console.log(format(line));
}

async function main(): Promise<number> {
  const { flags } = parseArgs(process.argv.slice(2));
  const now = new Date();
  const from = instant(flags.from, new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)));
  const to = instant(flags.to, new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)));
  const graceMinutes = flags["grace-minutes"] === undefined ? undefined : Number(flags["grace-minutes"]);
  if (graceMinutes !== undefined && !(Number.isFinite(graceMinutes) && graceMinutes >= 0)) {
    throw new Error(`--grace-minutes must be a number of minutes >= 0: ${flags["grace-minutes"]}`);
  }
  const { db, close } = await connectDatabase();
  const redisConnection = await connectRedis().catch(() => undefined);
  try {
    const report = await reconcileUsage(
      { db, redis: redisConnection?.redis ?? createUnreachableRedisAdapter() },
      {
        from,
        to,
        customer: flags.customer,
        graceMs: graceMinutes === undefined ? undefined : graceMinutes * 60_000,
      },
    );
    if (flags.json) {
      console.log(JSON.stringify(report, null, 2));
      return report.balanced ? 0 : 1;
    }
    const columns = [
      "customer",
      "period",
      "admitted",
      "compensated",
      "reported",
      "pending",
      "dead",
      "balanced",
    ];
    const lines = report.rows.map((row) => [
      row.stripe_customer_id,
      row.period,
      row.admitted,
      row.compensated,
      row.reported,
      row.pending,
      row.dead_lettered,
      row.balanced && row.batches_consistent ? "yes" : "NO",
    ]);
    const t = report.totals;
    lines.push([
      "TOTAL",
      "",
      t.admitted,
      t.compensated,
      t.reported,
      t.pending,
      t.dead_lettered,
      report.balanced ? "yes" : "NO",
    ]);
    console.log(
      `usage from ${report.from} to ${report.to}${report.customer ? ` for ${report.customer}` : ""}`,
    );
    printTable(columns, lines);
    for (const dead of report.dead_letters) {
      console.log(`dead-lettered ${dead.id} ${dead.stripe_customer_id} ${dead.units} units: ${dead.reason}`);
    }
    const backlog = report.not_yet_in_ledger;
    console.log(
      `not yet in the ledger: ${backlog.stream_entries ?? "unknown"} stream entries, ${backlog.pending_replay_records ?? "unknown"} records awaiting replay`,
    );
    console.log(
      report.ledger_balanced
        ? "ledger balanced: admitted - compensated = reported + pending + dead-lettered"
        : "LEDGER NOT BALANCED",
    );
    const check = report.answered_check;
    const days = check.days_compared;
    console.log(
      `\nanswered 2xx against billed, ${days ? `UTC days ${days.from} to ${days.to} (exclusive)` : "no whole day"}, grace ${check.grace_minutes} min:`,
    );
    printTable(
      ["customer", "period", "answered", "billed", "difference", "unsent", "matches"],
      check.rows.map((row) => [
        row.stripe_customer_id,
        row.period,
        row.answered,
        row.billed,
        row.difference,
        row.unsent,
        row.matches ? "yes" : "NO",
      ]),
    );
    console.log(ANSWERED_VERDICTS[check.status]);
    if (check.stalled) console.log("STALLED: usage older than the grace period is still not in the ledger");
    return report.balanced ? 0 : 1;
  } finally {
    await redisConnection?.close();
    await close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    say(`reconcile failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
