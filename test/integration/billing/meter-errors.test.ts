/**
 * Stripe's asynchronous meter errors (issue 17, item 5), end to end against real Redis and
 * Postgres and the fake Stripe: Stripe answers 200 to a meter event for a customer it does not
 * know, drops it while processing, and later raises `v1.billing.meter.error_report_triggered` as a
 * v2 thin event. The app receives the signed notification on POST /webhooks/stripe/thin-events,
 * fetches the event from Stripe by id, records it once, and the batch its sample names turns dead
 * with Stripe's reason; the reconciliation still balances and counts the report.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { newApp } from "../../../src/app";
import type { Env } from "../../../src/env";
import { type BillingHarness, startBillingHarness } from "../harness/billing";

let h: BillingHarness;
const app = newApp();
const executionCtx = {
  waitUntil: () => {},
  passThroughOnException: () => {},
  props: {},
} as unknown as ExecutionContext;

beforeAll(async () => {
  h = await startBillingHarness();
});
afterAll(async () => {
  await h?.stop();
});
beforeEach(async () => {
  await h.reset();
});

function deliver(payload: string, signature = h.stack.stripe.signWebhookPayload(payload)) {
  return Promise.resolve(
    app.request(
      "http://api.test/webhooks/stripe/thin-events",
      {
        method: "POST",
        headers: { "Content-Type": "application/json", "Stripe-Signature": signature },
        body: payload,
      },
      h.stack.vars as Env,
      executionCtx,
    ),
  );
}

describe("an asynchronous meter error", () => {
  it("turns the batch Stripe dropped dead with Stripe's reason, once, and the reconciliation counts it", async () => {
    h.stack.stripe.setMeterEventRules({ unknownCustomer: "report-async" });
    const known = h.customer();
    const ghost = "cus_ghost000000000000000000";
    await h.admit(known, 3);
    await h.admit(ghost, 5);
    const run = await h.flush();
    // Stripe answered 200 to both: both batches are sent, as far as the flusher can know.
    expect(run).toMatchObject({ sent: 2, dead_lettered: 0 });
    const before = await h.reconcile(ghost);
    expect(before.rows[0]).toMatchObject({ reported: 5, dead_lettered: 0 });

    const [notification, ...more] = h.stack.stripe.raiseMeterErrorReports();
    expect(more).toEqual([]);
    const payload = JSON.stringify(notification);
    const response = await deliver(payload);
    expect(response.status, await response.clone().text()).toBe(200);
    expect(await response.json()).toMatchObject({
      type: "v1.billing.meter.error_report_triggered",
      outcome: "recorded",
      batches_dead: 1,
      unmatched: 0,
    });
    // The app fetched the full event from Stripe by the notification's id.
    expect(
      h.stack.stripe
        .requests()
        .filter((r) => r.method === "GET" && r.path === `/v2/core/events/${notification?.id}`),
    ).toHaveLength(1);

    const { rows } = await h.sql.query<{
      stripe_customer_id: string;
      status: string;
      dead_reason: string | null;
    }>(
      "select stripe_customer_id, status, dead_reason from public.usage_batches order by stripe_customer_id",
    );
    expect(rows).toEqual(
      expect.arrayContaining([
        { stripe_customer_id: known, status: "sent", dead_reason: null },
        {
          stripe_customer_id: ghost,
          status: "dead",
          dead_reason: expect.stringContaining("meter_event_customer_not_found"),
        },
      ]),
    );

    // A redelivery records nothing again.
    const again = await deliver(payload);
    expect(await again.json()).toMatchObject({ outcome: "duplicate", batches_dead: 0 });

    const after = await h.reconcile();
    expect(after.ledger_balanced).toBe(true);
    const ghostRow = after.rows.find((row) => row.stripe_customer_id === ghost);
    expect(ghostRow).toMatchObject({ reported: 0, dead_lettered: 5, dead_batches: 1 });
    expect(after.dead_letters).toEqual([
      expect.objectContaining({
        stripe_customer_id: ghost,
        units: 5,
        reason: expect.stringContaining("Stripe rejected"),
      }),
    ]);
    expect(after.stripe_meter_errors).toMatchObject({
      reports: 1,
      errors: 1,
      unmatched_samples: 0,
      rows: [expect.objectContaining({ stripe_customer_id: ghost, batches: 1, units: 5 })],
    });
    expect(h.stack.stripe.unitsByCustomer()).toEqual({ [known]: 3 });
  });

  it("refuses a notification with a bad signature and ignores thin events of other types", async () => {
    const payload = JSON.stringify({
      id: "evt_test_other",
      object: "v2.core.event",
      type: "v1.billing.meter.error_report_triggered",
      created: new Date().toISOString(),
      livemode: false,
    });
    const forged = await deliver(
      payload,
      h.stack.stripe.signWebhookPayload(payload, { secret: "whsec_wrong" }),
    );
    expect(forged.status).toBe(400);
    const other = JSON.stringify({
      id: "evt_test_other2",
      object: "v2.core.event",
      type: "v2.core.event_destination.ping",
      created: new Date().toISOString(),
      livemode: false,
    });
    const ignored = await deliver(other);
    expect(ignored.status).toBe(200);
    expect(await ignored.json()).toMatchObject({ outcome: "ignored" });
  });
});
