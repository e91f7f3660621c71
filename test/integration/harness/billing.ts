/**
 * Harness of the billing suites: the flusher and reconciliation against the real local stack: an
 * own redis-server with AOF (the faithful model of durable Upstash, so a restart keeps the stream),
 * Postgres with migrations behind the PostgREST bridge, and the fake Stripe. Usage is admitted
 * through the production admission script (`admitUsage`) and compensated through `appendUsage`,
 * exactly as the Worker does.
 */
import pg from "pg";
import { expect } from "vitest";
import type { RedisAdapter } from "../../../src/adapters/redis";
import type { StripeAdapter } from "../../../src/adapters/stripe";
import type { DatabaseAdapter } from "../../../src/adapters/supabase";
import {
  type FlushDeps,
  type FlushHooks,
  type FlushReport,
  type FlushSettings,
  flushUsage,
} from "../../../src/billing/flusher";
import { type ReconciliationReport, reconcileUsage } from "../../../src/billing/reconciliation";
import { answeredDayOf, countAnsweredUnits } from "../../../src/metering/answered-units";
import { redisKeys } from "../../../src/metering/scripts/keys";
import type { AdmitUsageReply, UsageRecord } from "../../../src/metering/usage-record";
import { type LocalStack, startLocalStack } from "../../support/local-stack";
import { parseRedisUrl, RespClient, type RespReply } from "../../support/resp";
import { stackAdapters } from "../../support/stack-adapters";
import type { RecordedRequest } from "../../support/stripe-fake";

/** Fast settings for tests: no settle delay, immediate retries, a breaker that opens and recovers quickly. */
export const TEST_SETTINGS: FlushSettings = {
  meterEventName: "api_validation",
  timeBudgetMs: 20_000,
  maxRecords: 5000,
  maxEvents: 500,
  concurrency: 6,
  settleSeconds: 0,
  sealSeconds: 300,
  retryDelaySeconds: 0,
  breakerFailureThreshold: 3,
  breakerOpenSeconds: 1,
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
  /**
   * Admits `count` records of `units` each for a customer and, as the Worker does after a 2xx,
   * counts them as answered (the reconciliation's independent side); returns the records.
   */
  admit(customer: string, count: number, units?: number): Promise<UsageRecord[]>;
  /**
   * The admission script's run for one record, as the hot path makes it (or as a timed-out call
   * that ran late): nothing counted as answered, nothing added to the ground truth.
   */
  admitRecord(record: UsageRecord): Promise<AdmitUsageReply>;
  /** A record of `units` for a customer's account as the Worker builds it before admission (now, tier pro). */
  recordOf(customer: string, units?: number): UsageRecord;
  /**
   * Appends the compensation of an admitted record (a refunded 5xx): that call was not answered
   * 2xx after all, so its answered count is taken back too.
   */
  compensate(record: UsageRecord): Promise<void>;
  /** Counts a record answered 2xx as the Worker does (for records a test writes another way). */
  countAnswered(record: UsageRecord): Promise<void>;
  flush(
    overrides?: Partial<FlushSettings>,
    hooks?: FlushHooks,
    extra?: Partial<FlushDeps>,
  ): Promise<FlushReport>;
  reconcile(customer?: string): Promise<ReconciliationReport>;
  /** What the test admitted minus compensated, per customer (the ground truth). */
  expected(): Record<string, number>;
  /**
   * Flushes until nothing is left to send (bounded), then checks the identity and Stripe exactly,
   * down to the meter-event requests Stripe received (see {@link expectMeterEventsMatchBatches}).
   * `resent`: meter-event POSTs repeating an identifier Stripe already had (a resend after a lost
   * answer or a run that died after Stripe accepted); 0 unless the scenario causes them.
   */
  expectExactlyBilled(options?: {
    dead?: Record<string, number>;
    resent?: number;
  }): Promise<ReconciliationReport>;
  /** Back to empty: Redis flushed, ledger and pending usage truncated, Stripe reset. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export async function startBillingHarness(): Promise<BillingHarness> {
  const stack = await startLocalStack({ redis: "own", redisPersistence: "aof" });
  const respClient = new RespClient({ ...parseRedisUrl(stack.redis.url), commandTimeoutMs: 5000 });
  const sql = new pg.Client({ connectionString: stack.databaseUrl });
  await sql.connect();
  const { redis, db, stripe } = stackAdapters(stack);
  const truth: Record<string, number> = {};
  let requests = 0;
  const recordOf = (customer: string, units = 1): UsageRecord => ({
    id: `u_${crypto.randomUUID().replaceAll("-", "")}`,
    kind: "admit",
    requestId: `req-${++requests}`,
    subject: `acct-${customer}`,
    stripeCustomerId: customer || null,
    tier: "pro",
    units,
    occurredAtMs: Date.now(),
  });
  const admitRecord = (record: UsageRecord) =>
    redis.admitUsage({
      usageId: record.id,
      requestId: record.requestId,
      subject: record.subject,
      apiKeyId: null,
      stripeCustomerId: record.stripeCustomerId,
      tier: record.tier,
      units: record.units,
      nowMs: record.occurredAtMs,
      tiers: TIERS,
    });

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
    recordOf,
    admitRecord,
    async admit(customer, count, units = 1) {
      const records: UsageRecord[] = [];
      for (let i = 0; i < count; i++) {
        const record = recordOf(customer, units);
        expect((await admitRecord(record)).status).toBe("admitted");
        await countAnsweredUnits({ redis, db }, record);
        if (customer) truth[customer] = (truth[customer] ?? 0) + units;
        records.push(record);
      }
      return records;
    },
    async compensate(record) {
      // As the Worker compensates a live admission it saw admitted: a certain compensation.
      expect(
        await redis.appendUsage({ ...record, kind: "compensate", units: -record.units }, "live", true),
      ).toBe(true);
      if (record.stripeCustomerId) {
        truth[record.stripeCustomerId] = (truth[record.stripeCustomerId] ?? 0) - record.units;
        const key = redisKeys.answeredUnits(answeredDayOf(record.occurredAtMs));
        await respClient.command(["HINCRBY", key, record.stripeCustomerId, String(-record.units)]);
      }
    },
    countAnswered: (record) => countAnsweredUnits({ redis, db }, record),
    flush: (overrides = {}, hooks, extra = {}) =>
      flushUsage({ redis, db, stripe, settings: { ...TEST_SETTINGS, ...overrides }, hooks, ...extra }),
    reconcile: (customer) => reconcileUsage({ db, redis }, { from: FAR_PAST, to: FAR_FUTURE, customer }),
    expected: () => ({ ...truth }),
    async expectExactlyBilled({ dead = {}, resent = 0 } = {}) {
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
      await expectMeterEventsMatchBatches(harness, { resent });
      return reconciliation;
    },
    async reset() {
      await respClient.command(["FLUSHALL"]);
      await sql.query(
        "truncate public.usage_ledger, public.usage_buckets, public.usage_batches, public.pending_usage, public.answered_units, public.meter_customer_leases, public.billing_periods, public.meter_error_samples, public.meter_error_reports, public.meter_corrections",
      );
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

export const METER_EVENTS_PATH = "/v1/billing/meter_events";

/** The meter-event POSTs the fake Stripe received (answered or not), oldest first. */
export function meterEventPosts(h: BillingHarness): RecordedRequest[] {
  return h.stack.stripe
    .requests()
    .filter((request) => request.method === "POST" && request.path === METER_EVENTS_PATH);
}

/** True when the fake Stripe processed (accepted) the meter event of this request. */
function acceptedBy(request: RecordedRequest): boolean {
  return (
    request.status === 200 ||
    (request.status === "timeout" && request.injected === "timeout-after-processing")
  );
}

const field = (value: unknown, key: string): unknown =>
  typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)[key]
    : undefined;

/**
 * The billing design's promise, checked against what Stripe received and the ledger: the meter
 * event identifier is the batch id, written before sending; a retry resends the same row (same
 * identifier, customer, value, timestamp), never a new grouping of the same records. So:
 * - every meter-event POST names a batch of the ledger and carries exactly that batch's event;
 * - the POSTs Stripe accepted are, as a multiset, exactly the sent batches (each accepted once,
 *   each acceptance one sent batch), and so are Stripe's billable meter events;
 * - every batch's units are the net of the usage buckets that point to it (a second batch sent
 *   for records already batched has no records, so it fails here);
 * - resends that Stripe refused as duplicates number exactly `resent`.
 */
export async function expectMeterEventsMatchBatches(
  h: BillingHarness,
  { resent = 0 }: { resent?: number } = {},
): Promise<void> {
  const { rows } = await h.sql.query<{
    id: string;
    status: string;
    stripe_customer_id: string;
    units: number;
    record_count: number;
    ts: string;
    record_units: number;
    records: number;
  }>(
    `select b.id, b.status, b.stripe_customer_id, b.units::integer as units, b.record_count,
       floor(extract(epoch from b.event_timestamp))::bigint::text as ts,
       coalesce(sum(k.admitted - k.compensated), 0)::integer as record_units,
       coalesce(sum(k.records), 0)::integer as records
     from public.usage_batches b left join public.usage_buckets k on k.batch_id = b.id
     group by b.id`,
  );
  const batches = new Map(rows.map((row) => [row.id, row]));
  for (const batch of rows) {
    expect({ id: batch.id, units: batch.record_units, records: batch.records }).toEqual({
      id: batch.id,
      units: batch.units,
      records: batch.record_count,
    });
  }

  const posts = meterEventPosts(h);
  const acceptedIdentifiers: string[] = [];
  let duplicates = 0;
  for (const post of posts) {
    const identifier = String(post.body.identifier);
    const batch = batches.get(identifier);
    expect(batch, `meter event ${identifier} names no batch of the ledger`).toBeDefined();
    // A resend is the same event as the first attempt: the batch's own row.
    expect({
      identifier,
      event_name: post.body.event_name,
      customer: field(post.body.payload, "stripe_customer_id"),
      value: field(post.body.payload, "value"),
      timestamp: post.body.timestamp,
      batch_status: batch?.status,
    }).toEqual({
      identifier,
      event_name: TEST_SETTINGS.meterEventName,
      customer: batch?.stripe_customer_id,
      value: String(batch?.units),
      timestamp: batch?.ts,
      batch_status: expect.stringMatching(/^(sent|dead)$/),
    });
    if (acceptedIdentifiers.includes(identifier)) {
      duplicates += 1;
      expect(acceptedBy(post), `identifier ${identifier} accepted twice`).toBe(false);
    } else if (acceptedBy(post)) {
      acceptedIdentifiers.push(identifier);
    }
  }
  const sentBatches = rows
    .filter((row) => row.status === "sent")
    .map((row) => row.id)
    .sort();
  expect(acceptedIdentifiers.sort()).toEqual(sentBatches);
  const billed = h.stack.stripe.meterEvents();
  expect(billed.map((event) => event.identifier).sort()).toEqual(sentBatches);
  for (const event of billed) {
    const batch = batches.get(event.identifier);
    expect({ customer: event.customer, value: event.value, timestamp: String(event.timestamp) }).toEqual({
      customer: batch?.stripe_customer_id,
      value: batch?.units,
      timestamp: batch?.ts,
    });
  }
  expect(duplicates, "meter-event resends Stripe refused as duplicates").toBe(resent);
}
