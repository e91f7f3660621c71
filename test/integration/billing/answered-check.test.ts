/**
 * The reconciliation's second check can fail: it reports each of issue 15's reproductions 1-3,
 * which the ledger's own identity (admitted - compensated = reported + pending + dead-lettered)
 * passed. Each reproduction is recreated with the fix taken out: a billed record written for a
 * refused request (1), an ingestion that fails on every run (2), a batch formation that fails on
 * every run (3). `npm run reconcile` exits 1 on each and 0 once all is billed exactly.
 */
import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type DatabaseAdapter, DatabaseError } from "../../../src/adapters/supabase";
import { USAGE_STREAM_KEY } from "../../../src/metering/scripts/keys";
import { type BillingHarness, startBillingHarness } from "../harness/billing";

const ROOT = resolve(import.meta.dirname, "../../..");
let h: BillingHarness;

beforeAll(async () => {
  h = await startBillingHarness();
});
afterAll(async () => {
  await h?.stop();
});
beforeEach(async () => {
  await h.reset();
});

/** `npm run reconcile` against the harness's Postgres and Redis: its exit code and output. */
async function reconcileCommand(...args: string[]): Promise<{ code: number; stdout: string }> {
  try {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--import", "tsx", "scripts/reconcile.ts", "--from", "2000-01-01", "--to", "2100-01-01", ...args],
      {
        cwd: ROOT,
        timeout: 60_000,
        env: {
          ...process.env,
          DATABASE_URL: h.stack.databaseUrl,
          UPSTASH_REDIS_REST_URL: h.stack.vars.UPSTASH_REDIS_REST_URL,
          UPSTASH_REDIS_REST_TOKEN: h.stack.vars.UPSTASH_REDIS_REST_TOKEN,
        },
      },
    );
    return { code: 0, stdout };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? "" };
  }
}

/** The real database, except that `fn` fails every time with `error`. */
function failing(fn: string, error: () => Error): DatabaseAdapter {
  return {
    rpc: async <T>(name: string, args?: Record<string, unknown>) => {
      if (name === fn) throw error();
      return h.db.rpc<T>(name, args);
    },
  };
}

describe("the answered-units check", () => {
  it("balances when every unit billed was answered 2xx, and the command exits 0", async () => {
    const customer = h.customer();
    const records = await h.admit(customer, 4, 2);
    await h.compensate(records[0]!);
    const report = await h.expectExactlyBilled();
    const today = new Date().toISOString().slice(0, 10);
    expect(report.answered_check).toMatchObject({
      status: "balanced",
      days_compared: { from: today },
      rows: [{ stripe_customer_id: customer, answered: 6, billed: 6, difference: 0, unsent: 0 }],
    });
    const command = await reconcileCommand("--grace-minutes", "0");
    expect(command.stdout).toContain("answered balanced");
    expect(command.code).toBe(0);
  });

  it("a day with usage from before counting began is not compared (a deployment mid-day)", async () => {
    const customer = h.customer();
    const day = new Date().toISOString().slice(0, 10);
    // Served by a Worker that did not count yet: take the harness's counts back, forget `since`.
    await h.admit(customer, 2);
    await h.redisCommand("HINCRBY", `sm:answered:${day}`, customer, "-2");
    await h.redisCommand("DEL", "sm:answered-since");
    await h.admit(customer, 1);
    const report = await h.expectExactlyBilled();
    expect(report.answered_check).toMatchObject({
      status: "not_compared",
      balanced: true,
      days_compared: null,
    });
    const command = await reconcileCommand("--grace-minutes", "0");
    expect(command.stdout).toContain("answered not compared");
    expect(command.code).toBe(0);
  });

  it("reproduction 1: a 429 whose admission ran and was not compensated is reported as billed without a 2xx", async () => {
    const customer = h.customer();
    await h.admit(customer, 3);
    // What the fallback limiter's 429 did before the fix: the timed-out script had admitted the
    // record, the client got 429 (not counted as answered), and no compensation was written.
    // h.admit counts the call as answered; the 429 takes that back, as the Worker never counted it.
    const [refused] = await h.admit(customer, 1);
    await h.redisCommand(
      "HINCRBY",
      `sm:answered:${new Date(refused!.occurredAtMs).toISOString().slice(0, 10)}`,
      customer,
      "-1",
    );
    for (let i = 0; i < 3; i++) await h.flush();
    const report = await h.reconcile();
    // The ledger agrees with itself: the old reconciliation said balanced.
    expect(report.ledger_balanced).toBe(true);
    expect(report.answered_check).toMatchObject({
      status: "mismatch",
      balanced: false,
      rows: [
        { stripe_customer_id: customer, answered: 3, billed: 4, difference: 1, unsent: 0, matches: false },
      ],
    });
    expect(report.balanced).toBe(false);
    const command = await reconcileCommand("--grace-minutes", "0");
    expect(command.stdout).toContain("ANSWERED NOT BALANCED");
    expect(command.code).toBe(1);
  });

  it("reproduction 2: usage stuck in the stream is reported as answered but not billed, and stalled", async () => {
    const customer = h.customer();
    await h.admit(customer, 5);
    // Before the fix a chunk Postgres refused failed whole on every run: here moving the usage
    // buckets to Postgres fails every time, so the usage waits in Redis (drained, sealed, unmoved).
    const refusing = failing(
      "ingest_usage_buckets",
      () => new DatabaseError("ingest_usage_buckets", "XX000", 500, "the chunk was refused"),
    );
    for (let i = 0; i < 3; i++) await h.flush({}, undefined, { db: refusing });
    expect(await h.xlen(USAGE_STREAM_KEY)).toBe(0);
    expect((await h.redis.usageStreamBacklog()).entries).toBe(1);

    const report = await h.reconcile();
    expect(report.ledger_balanced).toBe(true);
    // Young entries may still be on their way: not concluded, and not balanced either.
    expect(report.answered_check).toMatchObject({ status: "in_flight", balanced: false, stalled: false });
    const strict = await reconcileCommand("--grace-minutes", "0", "--json");
    expect(strict.code).toBe(1);
    expect(JSON.parse(strict.stdout).answered_check).toMatchObject({
      status: "mismatch",
      stalled: true,
      rows: [{ stripe_customer_id: customer, answered: 5, billed: 0, difference: -5 }],
    });
    // Once ingestion works again the same usage balances.
    await h.expectExactlyBilled();
  });

  it("reproduction 3: usage in the ledger that never reaches Stripe is reported as unsent", async () => {
    const customer = h.customer();
    await h.admit(customer, 3);
    // Before the fix the integer sum overflowed and no batch was formed, on every run.
    const overflowing = failing(
      "ledger_form_batches",
      () => new DatabaseError("ledger_form_batches", "22003", 400, "integer out of range"),
    );
    for (let i = 0; i < 3; i++) await h.flush({}, undefined, { db: overflowing });
    const report = await h.reconcile();
    expect(report.ledger_balanced).toBe(true);
    expect(report.totals).toMatchObject({ admitted: 3, pending: 3, reported: 0 });
    const strict = await reconcileCommand("--grace-minutes", "0", "--json");
    expect(strict.code).toBe(1);
    expect(JSON.parse(strict.stdout).answered_check).toMatchObject({
      status: "mismatch",
      stalled: false,
      rows: [
        { stripe_customer_id: customer, answered: 3, billed: 3, difference: 0, unsent: 3, matches: false },
      ],
    });
    await h.expectExactlyBilled();
  });
});
