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
 * --stripe: also compare, per customer and month, the units the ledger says Stripe was sent with
 * Stripe's meter event summaries (STRIPE_SECRET_KEY, STRIPE_API_BASE optional,
 * STRIPE_METER_EVENT_NAME default api_validation), over windows older than --settle-minutes
 * (default 60: Stripe aggregates asynchronously); --correct also sends one correcting meter event
 * per difference (see src/billing/stripe-reconciliation.ts). Exits 1 on any difference.
 * Default period: the current UTC month. Postgres: DATABASE_URL (e.g. Supabase's connection
 * string), else the dev database of `npm run dev`. Redis (for entries not yet in the ledger):
 * UPSTASH_REDIS_REST_URL/TOKEN, else REDIS_URL or 127.0.0.1:6379; skipped when unreachable.
 */
import { createUnreachableRedisAdapter } from "../src/adapters/redis";
import { createStripeAdapter } from "../src/adapters/stripe";
import { reconcileUsage } from "../src/billing/reconciliation";
import {
  compareWithStripe,
  correctStripeDifferences,
  type StripeComparison,
  type StripeCorrection,
} from "../src/billing/stripe-reconciliation";
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
    const stripe = flags.stripe || flags.correct ? await stripeCheck(db, flags, { from, to }) : null;
    const stripeOk = stripe === null || stripe.comparison.matches;
    if (flags.json) {
      console.log(JSON.stringify({ ...report, stripe }, null, 2));
      return report.balanced && stripeOk ? 0 : 1;
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
    if (stripe) printStripe(stripe);
    return report.balanced && stripeOk ? 0 : 1;
  } finally {
    await redisConnection?.close();
    await close();
  }
}

async function stripeCheck(
  db: Parameters<typeof compareWithStripe>[0]["db"],
  flags: Record<string, string | undefined>,
  range: { from: Date; to: Date },
): Promise<{ comparison: StripeComparison; corrections: StripeCorrection[] | null }> {
  const secretKey = process.env.STRIPE_SECRET_KEY;
  if (!secretKey) throw new Error("--stripe needs STRIPE_SECRET_KEY (and STRIPE_API_BASE for a local fake)");
  const settle = flags["settle-minutes"] === undefined ? undefined : Number(flags["settle-minutes"]);
  if (settle !== undefined && !(Number.isFinite(settle) && settle >= 0)) {
    throw new Error(`--settle-minutes must be a number of minutes >= 0: ${flags["settle-minutes"]}`);
  }
  const deps = {
    db,
    stripe: createStripeAdapter({ secretKey, apiBase: process.env.STRIPE_API_BASE, timeoutMs: 10_000 }),
    meterEventName: process.env.STRIPE_METER_EVENT_NAME ?? "api_validation",
  };
  const query = { ...range, customer: flags.customer, settleMinutes: settle };
  if (flags.correct) return await correctStripeDifferences(deps, query);
  return { comparison: await compareWithStripe(deps, query), corrections: null };
}

function printStripe({
  comparison,
  corrections,
}: {
  comparison: StripeComparison;
  corrections: StripeCorrection[] | null;
}) {
  console.log(
    `\nledger against Stripe's meter event summaries (meter ${comparison.meter ?? "none"}), up to ${comparison.compared_until} (settle ${comparison.settle_minutes} min):`,
  );
  printTable(
    ["customer", "period", "ledger", "stripe", "difference", "status"],
    comparison.rows.map((row) => [
      row.stripe_customer_id,
      row.period,
      row.ledger_reported,
      row.stripe_aggregated ?? "?",
      row.difference ?? "?",
      row.detail ? `${row.status} (${row.detail})` : row.status,
    ]),
  );
  for (const correction of corrections ?? []) {
    console.log(
      `correction ${correction.identifier} ${correction.stripe_customer_id} ${correction.period} ${correction.value > 0 ? "+" : ""}${correction.value}: ${correction.outcome}${correction.error ? ` (${correction.error})` : ""}`,
    );
  }
  console.log(
    comparison.matches
      ? "stripe matches the ledger for every settled window"
      : `STRIPE DIFFERS from the ledger in ${comparison.differences} window(s)${corrections ? `; ${corrections.filter((c) => c.outcome !== "failed").length} correction(s) sent: re-run after the settle delay to confirm` : "; --correct sends the correcting events"}`,
  );
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    say(`reconcile failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
