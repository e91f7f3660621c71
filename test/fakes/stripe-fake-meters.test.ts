/**
 * The fake Stripe's meter rules that issue 17 relies on, through the real stripe-node SDK: one
 * meter event call in flight per customer and meter (429 rate_limit for a concurrent one), values
 * of at most 15 digits, meter event summaries as the API reference documents them (eventually
 * consistent), and asynchronous error reports as v2 thin events fetched by id.
 */
import Stripe from "stripe";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type StripeFake, startStripeFake } from "../support/stripe-fake";

const START = Date.UTC(2026, 10, 2, 12, 0, 0);
const EVENT_NAME = "api_validation";
let fake: StripeFake;
let stripe: Stripe;
let customer: string;
let meterId: string;

beforeAll(async () => {
  fake = await startStripeFake({ now: () => START, meters: [EVENT_NAME] });
  const base = new URL(fake.url);
  stripe = new Stripe(fake.apiKey, {
    httpClient: Stripe.createFetchHttpClient(),
    host: base.hostname,
    port: Number(base.port),
    protocol: "http",
    maxNetworkRetries: 0,
    timeout: 5000,
    telemetry: false,
  });
});
afterAll(async () => {
  await fake.close();
});
beforeEach(async () => {
  fake.reset();
  customer = fake.createCustomer().id;
  meterId = (await stripe.billing.meters.list()).data[0]?.id ?? "";
});

const report = (value: string, identifier: string, who = customer, timestamp = START / 1000 - 120) =>
  stripe.billing.meterEvents.create({
    event_name: EVENT_NAME,
    payload: { stripe_customer_id: who, value },
    identifier,
    timestamp,
  });

async function outcome(promise: Promise<unknown>): Promise<"ok" | Stripe.errors.StripeError> {
  try {
    await promise;
    return "ok";
  } catch (error) {
    return error as Stripe.errors.StripeError;
  }
}

describe("one meter event in flight per customer and meter", () => {
  it("answers 429 rate_limit to a concurrent call for the same customer, not for another", async () => {
    fake.setMeterEventRules({ meterEventLatencyMs: 50 });
    const other = fake.createCustomer().id;
    const results = await Promise.all([
      outcome(report("1", "a-1")),
      outcome(report("1", "a-2")),
      outcome(report("1", "b-1", other)),
    ]);
    expect(results[0]).toBe("ok");
    expect(results[2]).toBe("ok");
    const refused = results[1] as Stripe.errors.StripeError;
    expect(refused).toBeInstanceOf(Stripe.errors.StripeRateLimitError);
    expect(refused.statusCode).toBe(429);
    expect(refused.code).toBe("rate_limit");
    expect(fake.unitsByCustomer()).toEqual({ [customer]: 1, [other]: 1 });
    // Once the first call has answered, the customer takes a call again.
    expect(await outcome(report("1", "a-2"))).toBe("ok");
    expect(fake.unitsByCustomer()[customer]).toBe(2);
  });

  it("allows concurrent calls when the rule is relaxed", async () => {
    fake.setMeterEventRules({ meterEventLatencyMs: 50, concurrentCustomerCalls: "allow" });
    const results = await Promise.all([outcome(report("1", "a-1")), outcome(report("1", "a-2"))]);
    expect(results).toEqual(["ok", "ok"]);
  });
});

describe("values of at most 15 digits", () => {
  it("accepts 15 digits and refuses 16 (or drops them asynchronously with report-async)", async () => {
    expect(await outcome(report("999999999999999", "max"))).toBe("ok");
    const refused = (await outcome(report("1000000000000000", "over"))) as Stripe.errors.StripeError;
    expect(refused.statusCode).toBe(400);
    expect(refused.code).toBe("meter_event_value_too_many_digits");
    fake.setMeterEventRules({ valueTooManyDigits: "report-async" });
    expect(await outcome(report("1000000000000000", "over-async"))).toBe("ok");
    expect(fake.meterEventErrors()).toMatchObject([
      { code: "meter_event_value_too_many_digits", identifier: "over-async" },
    ]);
    expect(fake.unitsByCustomer()).toEqual({ [customer]: 999999999999999 });
  });
});

describe("GET /v1/billing/meters/:id/event_summaries", () => {
  it("sums a customer's events in [start, end), by window, newest first, with pagination", async () => {
    const hour = Math.floor(START / 3_600_000) * 3600;
    await report("5", "e1", customer, hour - 3600 + 10);
    await report("7", "e2", customer, hour - 60);
    await report("11", "e3", customer, hour + 30);
    await report("100", "other", fake.createCustomer().id, hour - 60);
    const whole = await stripe.billing.meters.listEventSummaries(meterId, {
      customer,
      start_time: hour - 7200,
      end_time: hour + 60,
    });
    expect(whole.data).toEqual([
      expect.objectContaining({
        object: "billing.meter_event_summary",
        aggregated_value: 23,
        start_time: hour - 7200,
        end_time: hour + 60,
        meter: meterId,
        livemode: false,
      }),
    ]);
    const hourly = await stripe.billing.meters.listEventSummaries(meterId, {
      customer,
      start_time: hour - 7200,
      end_time: hour + 3600,
      value_grouping_window: "hour",
      limit: 2,
    });
    expect(hourly.data.map((s) => [s.start_time, s.aggregated_value])).toEqual([
      [hour, 11],
      [hour - 3600, 12],
    ]);
    expect(hourly.has_more).toBe(true);
    const next = await stripe.billing.meters.listEventSummaries(meterId, {
      customer,
      start_time: hour - 7200,
      end_time: hour + 3600,
      value_grouping_window: "hour",
      limit: 2,
      starting_after: hourly.data[1]?.id,
    });
    expect(next.data.map((s) => [s.start_time, s.aggregated_value])).toEqual([[hour - 7200, 0]]);
    expect(next.has_more).toBe(false);
  });

  it("requires minute-aligned times and a customer", async () => {
    const error = (await outcome(
      stripe.billing.meters.listEventSummaries(meterId, { customer, start_time: 61, end_time: 120 }),
    )) as Stripe.errors.StripeError;
    expect(error.statusCode).toBe(400);
    expect(error.param).toBe("start_time");
  });

  it("is eventually consistent: an event shows only after the aggregation lag", async () => {
    fake.setMeterEventRules({ summaryLagMs: 60_000 });
    await report("5", "late", customer, START / 1000 - 120);
    const range = { customer, start_time: START / 1000 - 600, end_time: START / 1000 };
    const before = await stripe.billing.meters.listEventSummaries(meterId, range);
    expect(before.data[0]?.aggregated_value).toBe(0);
    fake.advance(60_000);
    const after = await stripe.billing.meters.listEventSummaries(meterId, range);
    expect(after.data[0]?.aggregated_value).toBe(5);
  });
});

describe("asynchronous meter error reports (v2 thin events)", () => {
  it("raises a thin notification whose full event, fetched by id, samples the identifiers", async () => {
    fake.setMeterEventRules({ unknownCustomer: "report-async" });
    await report("5", "smu_lost", "cus_nobody");
    const [notification, ...rest] = fake.raiseMeterErrorReports();
    expect(rest).toEqual([]);
    expect(notification).toMatchObject({
      object: "v2.core.event",
      type: "v1.billing.meter.error_report_triggered",
      related_object: { id: meterId, type: "billing.meter" },
    });
    expect(notification).not.toHaveProperty("data");
    const event = await stripe.v2.core.events.retrieve(notification?.id ?? "");
    expect(event).toMatchObject({
      id: notification?.id,
      data: {
        reason: {
          error_count: 1,
          error_types: [
            {
              code: "meter_event_customer_not_found",
              error_count: 1,
              sample_errors: [{ request: { identifier: "smu_lost" } }],
            },
          ],
        },
      },
    });
    // Reported once: a second call raises nothing new.
    expect(fake.raiseMeterErrorReports()).toEqual([]);
  });
});
