/**
 * `npm run bench:billing`: the money path at volume (issue 17, item 6), on the local stack (a real
 * redis-server behind the Upstash-REST bridge, real Postgres behind the PostgREST bridge, the fake
 * Stripe with its one-call-per-customer rule and 5 ms per meter event call).
 *
 * 1. Warms up the customer set: one record per customer, flushed and not counted, so that what is
 *    measured is a fixed customer set's growth (each customer's one-time rows, e.g. its meter lease,
 *    exist already), as the target states.
 * 2. Admits `--records` usage records (default 1,000,000) through the production admission script,
 *    as the hot path does (`--concurrency` calls at once, default 64), spread over `--customers`
 *    Stripe customers (default 1,000; a few heavy ones, a long tail), and compensates
 *    `--refund-percent` of them (default 1) as refunded 5xx answers are. Their timestamps (what the
 *    script buckets by hour) are those of admission at `--clock-rate` records/s (default 4,500, the
 *    hot path's rate per region), ending when admission starts, inside the current clock hour: this
 *    machine admits through the local bridge at a fraction of that rate, and a 15-minute run on the
 *    wall clock would cross an hour about one time in four, sealing twice the buckets. `--clock-rate 0` stamps records with the wall clock.
 * 3. Runs the flusher with the production settings (config.ts defaults) run after run, as the cron
 *    would, until the stream is drained, then once more as the next cron run finds the buckets
 *    quiet (without waiting FLUSH_SETTLE_SECONDS for it): sealed, moved, batched and sent.
 * 4. Prints: records drained per second (records over the whole flush's wall time, sending to
 *    Stripe included; and over the drain into buckets alone), Postgres bytes added per million
 *    admitted records (with usage aggregated per customer, account and hour since migrations/0017,
 *    this grows with customers × hours, not with records; so also bytes per bucket moved, and by
 *    table and index), peak Redis memory (sampled during admission), Stripe calls per million
 *    records, whether the reconciliation balances and Stripe holds exactly admitted - compensated
 *    per customer; each against the issue's target (met / NOT met). The figures are what this
 *    machine measured.
 *
 *   npm run bench:billing [-- --records 100000 --customers 1000 --concurrency 64 --json]
 */
import pg from "pg";
import { flushSettingsOf } from "../../src/billing/flush-run";
import { flushUsage } from "../../src/billing/flusher";
import { reconcileUsage } from "../../src/billing/reconciliation";
import { loadConfig } from "../../src/config";
import type { Env } from "../../src/env";
import { startLocalStack } from "../../test/support/local-stack";
import { parseRedisUrl, RespClient } from "../../test/support/resp";
import { stackAdapters } from "../../test/support/stack-adapters";
import { parseArgs, say } from "../lib/access-cli";

const { flags } = parseArgs(process.argv.slice(2));
const records = Number(flags.records ?? 1_000_000);
const customerCount = Number(flags.customers ?? 1000);
const concurrency = Number(flags.concurrency ?? 64);
const refundPercent = Number(flags["refund-percent"] ?? 1);
const clockRate = Number(flags["clock-rate"] ?? 4500);
const TIERS = { pro: { limit: 1_000_000_000, windowSeconds: 1 } };

const stack = await startLocalStack({ redis: "own" });
const resp = new RespClient({ ...parseRedisUrl(stack.redis.url), commandTimeoutMs: 10_000 });
const sql = new pg.Client({ connectionString: stack.databaseUrl });
try {
  await sql.connect();
  const { redis, db, stripe } = stackAdapters(stack);
  const customers = Array.from({ length: customerCount }, () => stack.stripe.createCustomer().id);
  // A realistic mix: a tenth of the customers make half of the calls.
  const heavy = Math.max(1, Math.floor(customerCount / 10));
  // (Every customer is used: even calls go round the heavy tenth, odd ones round the rest.)
  const pick = (n: number) =>
    customers[n % 2 === 0 ? (n / 2) % heavy : heavy + (((n - 1) / 2) % (customerCount - heavy || 1))] ??
    customers[0]!;
  const truth = new Map<string, number>();
  const usedMemory = async () => {
    const info = await resp.command(["INFO", "memory"]);
    const text = info.type === "bulk" || info.type === "simple" ? String(info.value) : "";
    return Number(/used_memory:(\d+)/.exec(text)?.[1] ?? Number.NaN);
  };
  const dbSize = async () =>
    Number(
      (await sql.query<{ size: string }>("select pg_database_size(current_database()) as size")).rows[0]
        ?.size,
    );

  const relationSizes = async () =>
    new Map(
      (
        await sql.query<{ name: string; size: string }>(
          "select c.relname as name, pg_relation_size(c.oid) as size from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public' and c.relkind in ('r', 'i', 't')",
        )
      ).rows.map((row) => [row.name, Number(row.size)]),
    );
  const config = loadConfig(stack.vars as Env);
  const settings = flushSettingsOf(config);
  /**
   * Flush runs as the cron makes them, until the stream is drained: buckets are sealed when quiet
   * for FLUSH_SETTLE_SECONDS (or open FLUSH_SEAL_SECONDS, or their hour is over), so a drain that
   * needs two runs adds to the same buckets. Then one more run as the cron's next one would find
   * them, quiet (settle 0 here instead of waiting): it seals, moves and sends what is left.
   */
  const flushAll = async () => {
    const totals = { runs: 0, read: 0, drainMs: 0, bucketsMoved: 0, longestSeconds: 0 };
    const run = async (settleSeconds: number) => {
      const started = performance.now();
      const report = await flushUsage({ redis, db, stripe, settings: { ...settings, settleSeconds } });
      totals.runs += 1;
      totals.longestSeconds = Math.max(totals.longestSeconds, (performance.now() - started) / 1000);
      totals.read += report.read;
      totals.drainMs += report.drain_ms;
      totals.bucketsMoved += report.buckets_moved;
      return report;
    };
    while (totals.runs < 1000 && (await run(settings.settleSeconds)).stream_backlog);
    while (totals.runs < 1000) {
      const report = await run(0);
      if (report.read === 0 && report.events_attempted === 0 && !report.stream_backlog) break;
    }
    return totals;
  };
  const admit = async (n: number, customer: string, nowMs: number) => {
    const id = `u_${n.toString(36).padStart(8, "0")}_${crypto.randomUUID().slice(0, 8)}`;
    const reply = await redis.admitUsage({
      usageId: id,
      requestId: `req-${n}`,
      subject: `acct-${customer}`,
      apiKeyId: null,
      stripeCustomerId: customer,
      tier: "pro",
      units: 1,
      nowMs,
      tiers: TIERS,
    });
    if (reply.status !== "admitted") throw new Error(`admission ${n}: ${reply.status}`);
    truth.set(customer, (truth.get(customer) ?? 0) + 1);
    return id;
  };

  say(`warming up: one record for each of ${customerCount} customers, flushed, not counted...`);
  for (const [i, customer] of customers.entries()) await admit(records + i, customer, Date.now());
  await flushAll();

  // The admission clock: `clockRate` records a second, ending now, inside the current clock hour
  // (in an hour's first minutes, the bench waits until the span fits).
  const HOUR_MS = 3_600_000;
  const spanMs = clockRate > 0 ? Math.ceil((records / clockRate) * 1000) : 0;
  if (spanMs >= HOUR_MS) throw new Error(`${records} records at ${clockRate}/s span an hour or more`);
  const intoHour = Date.now() % HOUR_MS;
  if (intoHour < spanMs) {
    say(
      `waiting ${Math.ceil((spanMs - intoHour) / 1000)} s, so that the admission's stamps lie in one hour...`,
    );
    await new Promise((resolve) => setTimeout(resolve, spanMs - intoHour + 1000));
  }
  const clockStart = Date.now() - spanMs;
  const stampOf = (n: number) =>
    clockRate > 0 ? clockStart + Math.floor((n * 1000) / clockRate) : Date.now();

  const relationsBefore = await relationSizes();
  const dbBefore = await dbSize();
  let peakRedis = await usedMemory();
  say(
    `admitting ${records} records for ${customerCount} customers, ${concurrency} at once, ${
      clockRate > 0
        ? `stamped ${new Date(clockStart).toISOString()} to ${new Date(stampOf(records - 1)).toISOString()} (${clockRate}/s)`
        : "stamped with the wall clock"
    }...`,
  );
  const admitStarted = performance.now();
  let next = 0;
  let refunds = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < records) {
        const n = next++;
        const customer = pick(n);
        const nowMs = stampOf(n);
        const id = await admit(n, customer, nowMs);
        if (refundPercent > 0 && n % Math.round(100 / refundPercent) === 0) {
          const record = {
            id,
            kind: "compensate" as const,
            requestId: `req-${n}`,
            subject: `acct-${customer}`,
            stripeCustomerId: customer,
            tier: "pro",
            units: -1,
            occurredAtMs: nowMs,
          };
          await redis.appendUsage(record, "live", true);
          truth.set(customer, (truth.get(customer) ?? 0) - 1);
          refunds += 1;
        }
        if (n % 20_000 === 0) peakRedis = Math.max(peakRedis, await usedMemory());
      }
    }),
  );
  peakRedis = Math.max(peakRedis, await usedMemory());
  const admitSeconds = (performance.now() - admitStarted) / 1000;
  say(`admitted in ${admitSeconds.toFixed(1)} s (${Math.round(records / admitSeconds)}/s); flushing...`);

  stack.stripe.clearRequests();
  const flushStarted = performance.now();
  const cpuStarted = process.cpuUsage();
  const flushed = await flushAll();
  const { runs, read: drained, drainMs } = flushed;
  const flushSeconds = (performance.now() - flushStarted) / 1000;
  const cpu = process.cpuUsage(cpuStarted);
  const dbAfter = await dbSize();
  const relationsAfter = await relationSizes();
  const growth = [...relationsAfter]
    .map(([name, size]) => [name, size - (relationsBefore.get(name) ?? 0)] as const)
    .filter(([, bytes]) => bytes > 0)
    .sort((a, b) => b[1] - a[1]);
  const meterCalls = stack.stripe.requests().filter((r) => r.path === "/v1/billing/meter_events").length;
  say(`flushed in ${flushSeconds.toFixed(1)} s over ${runs} runs; reconciling...`);
  // The ledger reconciliation reads every record of the range: at this volume it may exceed the
  // database's statement timeout, which is then reported, not hidden.
  const reconciliation = await reconcileUsage(
    { db, redis },
    { from: new Date("2000-01-01T00:00:00Z"), to: new Date("2100-01-01T00:00:00Z"), graceMs: 0 },
  ).catch((error: unknown) => {
    say(`reconciliation failed: ${error instanceof Error ? error.message : String(error)}`);
    return null;
  });
  const billed = stack.stripe.unitsByCustomer();
  const exact = [...truth].every(([customer, units]) => (billed[customer] ?? 0) === units);

  const perMillion = 1_000_000 / records;
  const figures = {
    records,
    refunds,
    customers: customerCount,
    admit_per_second: Math.round(records / admitSeconds),
    flush_runs: runs,
    longest_run_seconds: Number(flushed.longestSeconds.toFixed(1)),
    records_drained_per_second: Math.round(drained / flushSeconds),
    records_drained_per_second_drain_phase: Math.round(drained / (drainMs / 1000)),
    flusher_process_cpu_seconds: Number(((cpu.user + cpu.system) / 1e6).toFixed(1)),
    postgres_bytes_per_million: Math.round((dbAfter - dbBefore) * perMillion),
    buckets_moved: flushed.bucketsMoved,
    postgres_bytes_per_bucket: Math.round((dbAfter - dbBefore) / Math.max(1, flushed.bucketsMoved)),
    peak_redis_bytes_sampled: peakRedis,
    stripe_calls_per_million: Math.round(meterCalls * perMillion),
    reconciliation_balanced: reconciliation?.ledger_balanced ?? null,
    stripe_exact: exact,
  };
  const verdict = (ok: boolean) => (ok ? "met" : "NOT met");
  if (flags.json) console.log(JSON.stringify(figures, null, 2));
  console.log("| figure | value | target | |");
  console.log("| --- | --- | --- | --- |");
  console.log(
    `| records admitted | ${records} (${refunds} refunded) | >= 1,000,000 | ${verdict(records >= 1_000_000)} |`,
  );
  console.log(
    `| records drained per second (whole flush: drain, seal, move, batch, send) | ${figures.records_drained_per_second} | >= 20,000 | ${verdict(figures.records_drained_per_second >= 20_000)} |`,
  );
  console.log(
    `| of which the drain into buckets alone | ${figures.records_drained_per_second_drain_phase}/s (${(drainMs / 1000).toFixed(1)} s) | (reported) | |`,
  );
  console.log(
    `| Postgres bytes per million records | ${figures.postgres_bytes_per_million} | <= 1,048,576 | ${verdict(figures.postgres_bytes_per_million <= 1_048_576)} |`,
  );
  console.log(
    `| per bucket moved (a customer's account and hour) | ${figures.postgres_bytes_per_bucket} (${flushed.bucketsMoved} buckets) | (reported) | |`,
  );
  console.log(
    `| of which, by table and index | ${growth.map(([name, bytes]) => `${name} ${bytes}`).join(", ") || "none"} | | |`,
  );
  console.log(`| peak Redis memory (sampled) | ${peakRedis} bytes | (reported) | |`);
  console.log(
    `| Stripe meter event calls per million records | ${figures.stripe_calls_per_million} | (reported) | |`,
  );
  console.log(
    `| reconciliation balanced | ${figures.reconciliation_balanced ?? "could not run"} | exact | ${verdict(figures.reconciliation_balanced === true)} |`,
  );
  console.log(`| Stripe holds admitted - compensated, per customer | ${exact} | exact | ${verdict(exact)} |`);
  console.log(
    `| flush | ${runs} runs, longest ${figures.longest_run_seconds} s, ${figures.flusher_process_cpu_seconds} s CPU of this process (flusher plus the local bridges and fake) | | |`,
  );
} finally {
  await resp.close().catch(() => {});
  await sql.end().catch(() => {});
  await stack.stop();
}
