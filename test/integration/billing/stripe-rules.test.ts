/**
 * Stripe's meter rules (issue 17, item 3) against real Redis and Postgres and the fake Stripe,
 * which answers 429 rate_limit to a second concurrent meter event call of one customer and meter
 * and refuses values of more than 15 digits:
 * - at most one meter event in flight per customer, within one run and across concurrent runs;
 * - a customer's usage on both sides of a billing period boundary goes out as two batches, each
 *   timestamped inside its own period;
 * - a batch beyond 15 digits goes out as parts of at most 15 digits that sum to it exactly, and a
 *   part lost to a failure is resent under the same identifier.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  type BillingHarness,
  METER_EVENTS_PATH,
  meterEventPosts,
  startBillingHarness,
} from "../harness/billing";

let h: BillingHarness;

beforeAll(async () => {
  h = await startBillingHarness();
});
afterAll(async () => {
  await h?.stop();
});
beforeEach(async () => {
  await h.reset();
  h.stack.stripe.setMeterEventRules({ meterEventLatencyMs: 30 });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until the wall clock has just passed a whole second; returns that second (unix s). */
async function nextWholeSecond(): Promise<number> {
  const next = Math.ceil((Date.now() + 1) / 1000);
  await sleep(next * 1000 - Date.now() + 5);
  return next;
}

/** Records the subscription period [start, end) of a customer, as the webhooks do. */
async function recordPeriod(customer: string, start: number, end: number) {
  await h.db.rpc("record_billing_periods", {
    p_periods: [{ subscription: `sub_${customer.slice(4)}`, customer, start, end }],
  });
}

/** The customers of meter event calls the fake refused as concurrent (429): what the flusher must never cause. */
function customersRefusedAsConcurrent(): string[] {
  const calls = meterEventPosts(h).map((post) => ({
    customer: String((post.body.payload as Record<string, unknown>).stripe_customer_id),
    status: post.status,
  }));
  return calls.filter((call) => call.status === 429).map((call) => call.customer);
}

describe("one meter event in flight per customer", () => {
  it("never sends two events of one customer at once, in one run or in two concurrent runs", async () => {
    const busy = h.customer();
    const others = [h.customer(), h.customer(), h.customer()];
    // Three batches of `busy`: usage in three billing period segments.
    await h.admit(busy, 2);
    const first = await nextWholeSecond();
    await h.admit(busy, 3);
    const second = await nextWholeSecond();
    await h.admit(busy, 4);
    await recordPeriod(busy, first - 86_400, first);
    await recordPeriod(busy, first, second);
    await recordPeriod(busy, second, second + 86_400);
    for (const customer of others) await h.admit(customer, 1);

    const [a, b] = await Promise.all([h.flush(), h.flush()]);
    // The two runs share the stream, so each may form its own batches of the same segment: at
    // least three batches of `busy` and one of every other customer.
    const { rows } = await h.sql.query<{ n: number }>(
      "select count(*)::integer as n from public.usage_batches where stripe_customer_id = $1",
      [busy],
    );
    const busyBatches = rows[0]?.n ?? 0;
    expect(busyBatches).toBeGreaterThanOrEqual(3);
    expect(a.batches_formed + b.batches_formed).toBe(busyBatches + others.length);
    // No call of any customer was refused as concurrent: the busy customer's events went out one
    // after another, across both runs.
    expect(customersRefusedAsConcurrent()).toEqual([]);
    const busyCalls = meterEventPosts(h).filter(
      (post) => (post.body.payload as Record<string, unknown>).stripe_customer_id === busy,
    );
    expect(busyCalls).toHaveLength(busyBatches);
    await h.expectExactlyBilled();
  });

  it("the fake does refuse a concurrent call of one customer (what the flusher avoids)", async () => {
    const customer = h.customer();
    const send = (identifier: string) =>
      h.stripe
        .reportMeterEvent({
          eventName: "api_validation",
          stripeCustomerId: customer,
          value: 1,
          identifier,
          timestamp: Math.floor(Date.now() / 1000),
        })
        .then(
          () => 200,
          (error: { statusCode?: number }) => error.statusCode,
        );
    expect(await Promise.all([send("x-1"), send("x-2")])).toEqual([200, 429]);
  });
});

describe("billing period boundaries", () => {
  it("splits a customer's usage at a period boundary into two batches, each inside its period", async () => {
    const customer = h.customer();
    await h.admit(customer, 3);
    const boundary = await nextWholeSecond();
    await h.admit(customer, 4, 2);
    await recordPeriod(customer, boundary - 30 * 86_400, boundary);
    await recordPeriod(customer, boundary, boundary + 30 * 86_400);

    const report = await h.flush();
    expect(report).toMatchObject({ batches_formed: 2, sent: 2 });
    const { rows } = await h.sql.query<{ units: number; ts: number; segment: number }>(
      `select units::integer as units, floor(extract(epoch from event_timestamp))::integer as ts,
         extract(epoch from segment_start)::integer as segment
       from public.usage_batches order by event_timestamp`,
    );
    expect(rows).toEqual([
      { units: 3, ts: expect.any(Number), segment: boundary - 30 * 86_400 },
      { units: 8, ts: expect.any(Number), segment: boundary },
    ]);
    expect(rows[0]?.ts).toBeLessThan(boundary);
    expect(rows[1]?.ts).toBeGreaterThanOrEqual(boundary);
    const events = h.stack.stripe.meterEvents();
    expect(events.map((e) => [e.value, e.timestamp < boundary])).toEqual([
      [3, true],
      [8, false],
    ]);
    await h.expectExactlyBilled();
  });
});

describe("values of at most 15 digits", () => {
  const BIG = 2_500_000_000_000_123; // 16 digits, far beyond one meter event

  async function insertBigBatch(customer: string): Promise<string> {
    const id = `smu_${"ab".repeat(16)}`;
    await h.sql.query(
      `insert into public.usage_batches (id, stripe_customer_id, period, units, record_count, event_timestamp, status)
       values ($1, $2, to_char(now() at time zone 'UTC', 'YYYY-MM'), $3, 1, now() - interval '1 minute', 'pending')`,
      [id, customer, BIG],
    );
    return id;
  }

  it("sends a batch beyond 15 digits as parts that sum to it exactly", async () => {
    const customer = h.customer();
    const id = await insertBigBatch(customer);
    const report = await h.flush();
    expect(report).toMatchObject({ sent: 1, units_sent: BIG, dead_lettered: 0 });
    const values = h.stack.stripe.meterEvents().map((e) => [e.identifier, e.value]);
    expect(values).toEqual([
      [`${id}_p1`, 999_999_999_999_999],
      [`${id}_p2`, 999_999_999_999_999],
      [`${id}_p3`, 500_000_000_000_125],
    ]);
    expect(h.stack.stripe.unitsByCustomer()).toEqual({ [customer]: BIG });
  });

  it("resends a batch whose later part failed under the same identifiers, billing it once", async () => {
    const customer = h.customer();
    await insertBigBatch(customer);
    // Part 1 goes through, part 2 meets a 500: the batch is retried as a whole.
    h.stack.stripe.clearRequests();
    const sent: number[] = [];
    const first = await h.flush({}, undefined, {
      stripe: {
        ...h.stripe,
        async reportMeterEvent(event) {
          sent.push(event.value);
          if (sent.length === 2) h.stack.stripe.failNext(1, { status: 500 }, METER_EVENTS_PATH);
          return h.stripe.reportMeterEvent(event);
        },
      },
    });
    expect(first).toMatchObject({ sent: 0, retried: 1 });
    const second = await h.flush();
    expect(second).toMatchObject({ sent: 1, units_sent: BIG });
    expect(h.stack.stripe.unitsByCustomer()).toEqual({ [customer]: BIG });
    // The resend repeated part 1 (refused as a duplicate), then sent parts 2 and 3.
    const statuses = meterEventPosts(h).map((post) => [String(post.body.identifier).slice(-3), post.status]);
    expect(statuses).toEqual([
      ["_p1", 200],
      ["_p2", 500],
      ["_p1", 400],
      ["_p2", 200],
      ["_p3", 200],
    ]);
  });
});
