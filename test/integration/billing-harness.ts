/**
 * Harness of the billing suites: the flusher and reconciliation against the real local stack: an
 * own redis-server with AOF (the faithful model of durable Upstash, so a restart keeps the stream),
 * Postgres with migrations behind the PostgREST bridge, and the fake Stripe. Usage is admitted
 * through the production admission script (`admitUsage`) and compensated through `appendUsage`,
 * exactly as the Worker does.
 */
import pg from "pg";
import { expect } from "vitest";
import { createRedisAdapter, type RedisAdapter, type UsageRecord } from "../../src/adapters/redis";
import { createStripeAdapter, type StripeAdapter } from "../../src/adapters/stripe";
import { createSupabaseAdapter, type DatabaseAdapter } from "../../src/adapters/supabase";
import {
  type FlushDeps,
  type FlushHooks,
  type FlushReport,
  type FlushSettings,
  flushUsage,
} from "../../src/billing/flusher";
import { type ReconciliationReport, reconcileUsage } from "../../src/billing/reconciliation";
import { type LocalStack, startLocalStack } from "../support/local-stack";
import { parseRedisUrl, RespClient, type RespReply } from "../support/resp";

/** Fast settings for tests: no settle delay, immediate retries, a breaker that opens and recovers quickly. */
export const TEST_SETTINGS: FlushSettings = {
  STRIPE_METER_EVENT_NAME: "api_validation",
  FLUSH_TIME_BUDGET_MS: 20_000,
  FLUSH_MAX_RECORDS: 5000,
  FLUSH_MAX_EVENTS: 500,
  FLUSH_CONCURRENCY: 6,
  FLUSH_SETTLE_SECONDS: 0,
  FLUSH_RECLAIM_IDLE_MS: 0,
  FLUSH_RETRY_DELAY_SECONDS: 0,
  STRIPE_BREAKER_FAILURE_THRESHOLD: 3,
  STRIPE_BREAKER_OPEN_SECONDS: 1,
};

const TIERS = { pro: { limit: 1_000_000, windowSeconds: 1 } };
const FAR_PAST = new Date("2000-01-01T00:00:00Z");
const FAR_FUTURE = new Date("2100-01-01T00:00:00Z");

export interface BillingHarness {
  stack: LocalStack;
  redis: RedisAdapter;
  db: DatabaseAdapter;
  stripe: StripeAdapter;
  sql: pg.Client;
  redisCommand(...args: string[]): Promise<RespReply>;
  /** Entries in a stream (XLEN). */
  xlen(key: string): Promise<number>;
  /** A customer that exists in the fake Stripe. */
  customer(): string;
  /** Admits `count` records of `units` each for a customer; returns the records. */
  admit(customer: string, count: number, units?: number): Promise<UsageRecord[]>;
  /** Appends the compensation of an admitted record (a refunded 5xx). */
  compensate(record: UsageRecord): Promise<void>;
  flush(
    overrides?: Partial<FlushSettings>,
    hooks?: FlushHooks,
    extra?: Partial<FlushDeps>,
  ): Promise<FlushReport>;
  reconcile(customer?: string): Promise<ReconciliationReport>;
  /** What the test admitted minus compensated, per customer (the ground truth). */
  expected(): Record<string, number>;
  /** Flushes until nothing is left to send (bounded), then checks the identity and Stripe exactly. */
  expectExactlyBilled(options?: { dead?: Record<string, number> }): Promise<ReconciliationReport>;
  /** Back to empty: Redis flushed, ledger and pending usage truncated, Stripe reset. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export async function startBillingHarness(): Promise<BillingHarness> {
  const stack = await startLocalStack({ redis: "own", redisPersistence: "aof" });
  const respClient = new RespClient({ ...parseRedisUrl(stack.redis.url), commandTimeoutMs: 5000 });
  const sql = new pg.Client({ connectionString: stack.databaseUrl });
  await sql.connect();
  const redis = createRedisAdapter({
    url: stack.vars.UPSTASH_REDIS_REST_URL!,
    token: stack.vars.UPSTASH_REDIS_REST_TOKEN!,
    timeoutMs: 5000,
  });
  const db = createSupabaseAdapter({
    url: stack.vars.SUPABASE_URL!,
    serviceRoleKey: stack.vars.SUPABASE_SERVICE_ROLE_KEY!,
    timeoutMs: 10_000,
  });
  // A short client timeout so the fake's "timeout" failures cost a second, not five.
  const stripe = createStripeAdapter({
    secretKey: stack.vars.STRIPE_SECRET_KEY!,
    apiBase: stack.vars.STRIPE_API_BASE,
    timeoutMs: 1000,
  });
  const truth: Record<string, number> = {};
  let requests = 0;

  const harness: BillingHarness = {
    stack,
    redis,
    db,
    stripe,
    sql,
    redisCommand: (...args) => respClient.command(args),
    async xlen(key) {
      const reply = await respClient.command(["XLEN", key]);
      if (reply.type !== "integer") throw new Error(`XLEN ${key}: ${JSON.stringify(reply)}`);
      return Number(reply.value);
    },
    customer: () => stack.stripe.createCustomer().id,
    async admit(customer, count, units = 1) {
      const records: UsageRecord[] = [];
      for (let i = 0; i < count; i++) {
        const record: UsageRecord = {
          id: `u_${crypto.randomUUID().replaceAll("-", "")}`,
          kind: "admit",
          requestId: `req-${++requests}`,
          subject: `acct-${customer}`,
          stripeCustomerId: customer || null,
          tier: "pro",
          units,
          occurredAtMs: Date.now(),
        };
        const reply = await redis.admitUsage({
          usageId: record.id,
          requestId: record.requestId,
          subject: record.subject,
          apiKeyId: null,
          stripeCustomerId: record.stripeCustomerId,
          tier: "pro",
          units,
          nowMs: record.occurredAtMs,
          tiers: TIERS,
        });
        expect(reply.status).toBe("admitted");
        if (customer) truth[customer] = (truth[customer] ?? 0) + units;
        records.push(record);
      }
      return records;
    },
    async compensate(record) {
      expect(await redis.appendUsage({ ...record, kind: "compensate", units: -record.units }, "live")).toBe(
        true,
      );
      if (record.stripeCustomerId)
        truth[record.stripeCustomerId] = (truth[record.stripeCustomerId] ?? 0) - record.units;
    },
    flush: (overrides = {}, hooks, extra = {}) =>
      flushUsage({ redis, db, stripe, settings: { ...TEST_SETTINGS, ...overrides }, hooks, ...extra }),
    reconcile: (customer) => reconcileUsage({ db, redis }, { from: FAR_PAST, to: FAR_FUTURE, customer }),
    expected: () => ({ ...truth }),
    async expectExactlyBilled({ dead = {} } = {}) {
      for (let i = 0; i < 10; i++) {
        const report = await harness.flush();
        if (report.events_attempted === 0 && !report.stream_backlog) break;
      }
      const reconciliation = await harness.reconcile();
      expect(reconciliation.balanced).toBe(true);
      expect(reconciliation.not_yet_in_ledger.stream_entries).toBe(0);
      expect(reconciliation.totals.pending).toBe(0);
      const expectedBilled = Object.fromEntries(
        Object.entries(truth).filter(([customer, units]) => !(customer in dead) && units !== 0),
      );
      // The units Stripe accepted equal admitted - compensated, exactly, per customer.
      const accepted = stack.stripe.unitsByCustomer();
      expect(accepted).toEqual(expectedBilled);
      for (const row of reconciliation.rows) {
        const wanted = dead[row.stripe_customer_id];
        expect(row.admitted - row.compensated).toBe(truth[row.stripe_customer_id]);
        expect(row.dead_lettered).toBe(wanted ?? 0);
        expect(row.reported).toBe(wanted === undefined ? truth[row.stripe_customer_id] : 0);
        expect(row.reported_by_batches).toBe(row.reported);
      }
      // No identifier was accepted twice.
      const identifiers = stack.stripe.meterEvents().map((event) => event.identifier);
      expect(new Set(identifiers).size).toBe(identifiers.length);
      return reconciliation;
    },
    async reset() {
      await respClient.command(["FLUSHALL"]);
      await sql.query("truncate public.usage_ledger, public.usage_batches, public.pending_usage");
      stack.stripe.reset();
      for (const key of Object.keys(truth)) delete truth[key];
    },
    async stop() {
      await respClient.close().catch(() => {});
      await sql.end().catch(() => {});
      await stack.stop();
    },
  };
  return harness;
}

/** Batches by status, from the ledger. */
export async function batchStatuses(h: BillingHarness): Promise<Record<string, number>> {
  const { rows } = await h.sql.query<{ status: string; n: string }>(
    "select status, count(*) as n from public.usage_batches group by status",
  );
  return Object.fromEntries(rows.map((row) => [row.status, Number(row.n)]));
}
