/**
 * Harness of the fault suite: the production app (`newApp`) in Node against the real local stack
 * (own redis-server with AOF, so a restart keeps the stream like durable Upstash; Postgres with
 * the migrations behind the PostgREST bridge, on a throwaway cluster of its own when a scenario
 * stops it; the fake Stripe), the production flusher and reconciliation. Every call is recorded
 * with its request id, units and the status the caller got, so that after each scenario
 * `expectBilledAsAnswered` can check the billing invariant per customer (the ledger aggregates
 * usage per customer, account and hour since migrations/0017): units billed (in batches Stripe
 * accepted) = units answered 2xx, Stripe's totals per customer the same, and the reconciliation
 * balanced on both of its checks.
 */
import pg from "pg";
import { expect } from "vitest";
import type { RedisAdapter } from "../../src/adapters/redis";
import type { DatabaseAdapter } from "../../src/adapters/supabase";
import { type App, newApp } from "../../src/app";
import { type FlushDeps, type FlushReport, type FlushSettings, flushUsage } from "../../src/billing/flusher";
import { type ReconciliationReport, reconcileUsage } from "../../src/billing/reconciliation";
import type { Env } from "../../src/env";
import { TEST_SETTINGS } from "../integration/harness/billing";
import { type LocalStack, type LocalStackOptions, startLocalStack } from "../support/local-stack";
import { createTestDatabase, type PostgresCluster, startPostgresCluster } from "../support/postgres";
import { parseRedisUrl, RespClient, type RespReply } from "../support/resp";
import { stackAdapters } from "../support/stack-adapters";
import { type ScenarioSummary, summaries } from "./summary";

/** One call as the caller saw it. */
export interface Call {
  requestId: string;
  customer: string | null;
  /** Units the call costs (1 per validation, 2 with enrichment). */
  units: number;
  status: number;
}

export interface PayingAccount {
  id: string;
  apiKey: string;
  token: string;
  customer: string;
}

export interface FaultHarness {
  stack: LocalStack;
  env: Env;
  redis: RedisAdapter;
  db: DatabaseAdapter;
  /** Queries the test's Postgres (a pool: it survives a restart of the server). */
  sql: pg.Pool;
  /** The scenario's own Postgres cluster (only with `ownPostgres`). */
  postgres?: PostgresCluster;
  redisCommand(...args: string[]): Promise<RespReply>;
  request(path: string, init?: RequestInit, env?: Env): Promise<Response>;
  /** Awaits every `waitUntil` promise so far (compensations, answered counts, degraded records). */
  settle(): Promise<void>;
  /** A new account on a paying tier with a Stripe customer (as after checkout) and a fresh token. */
  payingAccount(tier?: string): Promise<PayingAccount>;
  /** `POST /v1/validate` for `account`, recorded in `calls`. */
  validate(
    account: PayingAccount,
    calls: Call[],
    options?: { requestId?: string; enrich?: boolean; env?: Env },
  ): Promise<Call>;
  flush(overrides?: Partial<FlushSettings>, extra?: Partial<FlushDeps>): Promise<FlushReport>;
  /** Flushes until nothing is left to read, replay or send (bounded), waiting out an open breaker. */
  drain(): Promise<FlushReport[]>;
  reconcile(): Promise<ReconciliationReport>;
  /**
   * The billing invariant after a scenario: drains, then checks per customer (in the ledger and in
   * Stripe) that the units billed are the units answered 2xx, and that the reconciliation balances (both
   * checks, no grace). Records the scenario's line of the summary.
   */
  expectBilledAsAnswered(
    scenario: string,
    calls: Call[],
    options?: { note?: string },
  ): Promise<ScenarioSummary>;
  stop(): Promise<void>;
}

let accounts = 0;
const FAR_PAST = new Date("2000-01-01T00:00:00Z");
const FAR_FUTURE = new Date("2100-01-01T00:00:00Z");
const SCHEMA = { type: "object", properties: { n: { type: "integer", default: 1 } } };

export async function startFaultHarness(
  options: { ownPostgres?: boolean; env?: Partial<Env>; stack?: LocalStackOptions } = {},
): Promise<FaultHarness> {
  const postgres = options.ownPostgres ? await startPostgresCluster() : undefined;
  const database = postgres ? await createTestDatabase(postgres, "schema_meter_faults") : undefined;
  const stack = await startLocalStack({
    redis: "own",
    redisPersistence: "aof",
    databaseUrl: database?.url,
    ...options.stack,
  });
  // Set-up calls get a generous admission budget; scenarios pass their own env where they test one.
  const env: Env = { ...stack.vars, ADMISSION_TIMEOUT_MS: "1000", ...options.env };
  const app: App = newApp();
  const pending: Promise<unknown>[] = [];
  const executionCtx = {
    waitUntil: (promise: Promise<unknown>) => void pending.push(promise),
    passThroughOnException: () => {},
    props: {},
  } as unknown as ExecutionContext;
  const request = (path: string, init?: RequestInit, requestEnv: Env = env) =>
    Promise.resolve(app.request(`http://api.test${path}`, init, requestEnv, executionCtx));
  const respClient = new RespClient({ ...parseRedisUrl(stack.redis.url), commandTimeoutMs: 5000 });
  const sql = new pg.Pool({ connectionString: stack.databaseUrl, max: 2 });
  sql.on("error", () => {});
  const { redis, db, stripe } = stackAdapters(stack);

  const harness: FaultHarness = {
    stack,
    env,
    redis,
    db,
    sql,
    postgres,
    redisCommand: (...args) => respClient.command(args),
    request,
    async settle() {
      while (pending.length > 0) await Promise.all(pending.splice(0));
    },
    async payingAccount(tier = "pro") {
      const n = ++accounts;
      const ip = `10.9.${n >> 8}.${n & 255}`;
      const setup = { ...env, ADMISSION_TIMEOUT_MS: "1000" };
      const signup = await request(
        "/v1/signup",
        {
          method: "POST",
          headers: { "Content-Type": "application/json", "CF-Connecting-IP": ip },
          body: JSON.stringify({ email: `fault${n}-${Date.now()}@example.com` }),
        },
        setup,
      );
      if (signup.status !== 201) throw new Error(`signup: ${signup.status} ${await signup.text()}`);
      const { account_id: id, api_key: apiKey } = (await signup.json()) as {
        account_id: string;
        api_key: string;
      };
      // What a completed checkout does: the account becomes a paying Stripe customer.
      const customer = stack.stripe.createCustomer().id;
      await sql.query("update public.accounts set tier = $1, stripe_customer_id = $2 where id = $3", [
        tier,
        customer,
        id,
      ]);
      const minted = await request(
        "/v1/token",
        { method: "POST", headers: { Authorization: `Bearer ${apiKey}`, "CF-Connecting-IP": ip } },
        setup,
      );
      if (minted.status !== 200) throw new Error(`token: ${minted.status} ${await minted.text()}`);
      const { token } = (await minted.json()) as { token: string };
      return { id, apiKey, token, customer };
    },
    async validate(account, calls, { requestId, enrich = false, env: callEnv } = {}) {
      const id = requestId ?? `fault-${crypto.randomUUID()}`;
      const response = await request(
        "/v1/validate",
        {
          method: "POST",
          headers: {
            "Content-Type": "application/json",
            Authorization: `Bearer ${account.token}`,
            "X-Request-Id": id,
          },
          body: JSON.stringify({ schema: SCHEMA, data: { n: calls.length }, enrich }),
        },
        callEnv,
      );
      await response.arrayBuffer();
      const call = {
        requestId: id,
        customer: account.customer,
        units: enrich ? 2 : 1,
        status: response.status,
      };
      calls.push(call);
      return call;
    },
    flush: (overrides = {}, extra = {}) =>
      flushUsage({ redis, db, stripe, settings: { ...TEST_SETTINGS, ...overrides }, ...extra }),
    async drain() {
      await harness.settle();
      const reports: FlushReport[] = [];
      for (let i = 0; i < 15; i++) {
        const report = await harness.flush();
        reports.push(report);
        const { rows } = await sql.query<{ pending: string; open: string }>(
          `select (select count(*) from public.pending_usage where replayed_at is null) as pending,
             (select count(*) from public.usage_batches where status = 'pending') as open`,
        );
        const idle = Number(rows[0]?.pending) === 0 && Number(rows[0]?.open) === 0;
        if (idle && !report.stream_backlog && report.events_attempted === 0 && report.read === 0) break;
        // An open breaker lets a probe through after breakerOpenSeconds.
        if (report.stopped === "breaker_open") await new Promise((done) => setTimeout(done, 1100));
      }
      return reports;
    },
    reconcile: () => reconcileUsage({ db, redis }, { from: FAR_PAST, to: FAR_FUTURE, graceMs: 0 }),
    async expectBilledAsAnswered(scenario, calls, { note } = {}) {
      await harness.drain();
      const customers = [...new Set(calls.map((call) => call.customer).filter((c) => c !== null))];
      // The ledger keeps usage per customer, account and hour (migrations/0017), so the invariant
      // is checked per customer: units billed = units answered 2xx, and nothing left unreported.
      const { rows } = await sql.query<{ customer: string; units: number; unreported: number }>(
        `select k.stripe_customer_id as customer, sum(k.admitted - k.compensated)::integer as units,
           count(*) filter (where b.status is null or b.status not in ('sent', 'netted'))::integer as unreported
         from public.usage_buckets k left join public.usage_batches b on b.id = k.batch_id
         where k.stripe_customer_id = any($1)
         group by k.stripe_customer_id`,
        [customers],
      );
      const billed = new Map(rows.map((row) => [row.customer, row]));
      const answered = new Map<string, number>();
      for (const call of calls) {
        if (call.customer && call.status >= 200 && call.status < 300)
          answered.set(call.customer, (answered.get(call.customer) ?? 0) + call.units);
      }
      const wrong = customers
        .map((customer) => ({
          customer,
          answered_units: answered.get(customer) ?? 0,
          billed_units: billed.get(customer)?.units ?? 0,
          unreported_buckets: billed.get(customer)?.unreported ?? 0,
        }))
        .filter((row) => row.answered_units !== row.billed_units || row.unreported_buckets !== 0);
      expect(wrong, `${scenario}: customers billed other than answered`).toEqual([]);

      const answeredByCustomer: Record<string, number> = {};
      for (const call of calls) {
        if (call.customer && call.status >= 200 && call.status < 300)
          answeredByCustomer[call.customer] = (answeredByCustomer[call.customer] ?? 0) + call.units;
      }
      const stripeUnits = stack.stripe.unitsByCustomer();
      const inStripe = Object.fromEntries(
        customers.filter((c) => stripeUnits[c] !== undefined).map((c) => [c, stripeUnits[c]]),
      );
      expect(inStripe, `${scenario}: units Stripe accepted per customer`).toEqual(answeredByCustomer);

      const report = await harness.reconcile();
      expect(
        { ledger: report.ledger_balanced, answered: report.answered_check.status },
        `${scenario}: reconciliation ${JSON.stringify(report.answered_check.rows.filter((r) => !r.matches))}`,
      ).toEqual({ ledger: true, answered: "balanced" });
      expect(report.not_yet_in_ledger).toEqual({ stream_entries: 0, pending_replay_records: 0 });
      const mine = report.answered_check.rows.filter((row) => customers.includes(row.stripe_customer_id));
      const summary: ScenarioSummary = {
        scenario,
        requests: calls.length,
        answered_2xx: calls.filter((call) => call.status >= 200 && call.status < 300).length,
        refused: calls.filter((call) => call.status >= 300).length,
        units_answered_2xx: Object.values(answeredByCustomer).reduce((a, b) => a + b, 0),
        units_billed_stripe: Object.values(inStripe).reduce((sum: number, units) => sum + (units ?? 0), 0),
        units_billed_ledger: rows.reduce((sum, row) => sum + row.units, 0),
        units_answered_counted: mine.reduce((sum, row) => sum + row.answered, 0),
        note: note ?? "",
      };
      summaries.push(summary);
      return summary;
    },
    async stop() {
      await harness.settle().catch(() => {});
      await respClient.close().catch(() => {});
      await sql.end().catch(() => {});
      await stack.stop();
      await postgres?.destroy();
    },
  };
  return harness;
}

export { blockRedis } from "../support/raw-redis";

export const isSuccess = (call: Call) => call.status >= 200 && call.status < 300;
export const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));
