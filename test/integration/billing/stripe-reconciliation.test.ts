/**
 * Reconciliation with Stripe (issue 17, item 4) against real Redis and Postgres and the fake
 * Stripe's meter event summaries: per customer and month, the units the ledger says Stripe was sent
 * against Stripe's aggregated value; an injected difference (usage Stripe holds that the ledger
 * never sent) is found, corrected with one negative meter event of its own identifier, and the
 * next comparison matches. Windows younger than the settle delay are not compared, and a batch
 * sent within it reads not_settled (Stripe aggregates asynchronously).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { newApp } from "../../../src/app";
import {
  compareWithStripe,
  correctStripeDifferences,
  type StripeReconciliationDeps,
} from "../../../src/billing/stripe-reconciliation";
import type { Env } from "../../../src/env";
import { type BillingHarness, startBillingHarness } from "../harness/billing";

let h: BillingHarness;
let deps: StripeReconciliationDeps;
const FAR_PAST = new Date("2000-01-01T00:00:00Z");
const FAR_FUTURE = new Date("2100-01-01T00:00:00Z");

beforeAll(async () => {
  h = await startBillingHarness();
  deps = { db: h.db, stripe: h.stripe, meterEventName: "api_validation" };
});
afterAll(async () => {
  await h?.stop();
});
beforeEach(async () => {
  await h.reset();
});

/** A comparison that takes in everything sent so far: "now" two minutes ahead, no settle delay. */
const everything = { from: FAR_PAST, to: FAR_FUTURE, settleMinutes: 0 };
const nowAhead = () => Date.now() + 120_000;

describe("the ledger against Stripe's meter event summaries", () => {
  it("finds an injected difference, corrects it with its own event, and then matches", async () => {
    const [a, b] = [h.customer(), h.customer()];
    await h.admit(a, 10);
    await h.admit(b, 4);
    expect(await h.flush()).toMatchObject({ sent: 2 });

    const clean = await compareWithStripe(deps, { ...everything, now: nowAhead() });
    expect(clean.matches).toBe(true);
    expect(
      clean.rows.map((row) => [
        row.stripe_customer_id,
        row.ledger_reported,
        row.stripe_aggregated,
        row.status,
      ]),
    ).toEqual(
      expect.arrayContaining([
        [a, 10, 10, "match"],
        [b, 4, 4, "match"],
      ]),
    );

    // Stripe holds 7 units for `a` that the ledger never sent (another system, a manual event).
    await h.stripe.reportMeterEvent({
      eventName: "api_validation",
      stripeCustomerId: a,
      value: 7,
      identifier: "foreign-usage-1",
      timestamp: Math.floor(Date.now() / 1000) - 30,
    });
    const differing = await compareWithStripe(deps, { ...everything, now: nowAhead() });
    expect(differing.matches).toBe(false);
    expect(differing.differences).toBe(1);
    expect(differing.rows.find((row) => row.stripe_customer_id === a)).toMatchObject({
      ledger_reported: 10,
      stripe_aggregated: 17,
      difference: 7,
      status: "difference",
    });

    const now = nowAhead();
    const { corrections } = await correctStripeDifferences(deps, { ...everything, now });
    expect(corrections).toEqual([
      expect.objectContaining({
        stripe_customer_id: a,
        value: -7,
        outcome: "sent",
        identifier: expect.stringMatching(/^smc_[0-9a-f]{32}$/),
      }),
    ]);
    const correction = h.stack.stripe
      .meterEvents()
      .find((event) => event.identifier === corrections[0]?.identifier);
    expect(correction).toMatchObject({ customer: a, value: -7 });
    expect(h.stack.stripe.unitsByCustomer()).toEqual({ [a]: 10, [b]: 4 });
    const { rows } = await h.sql.query(
      "select status, value::integer as value from public.meter_corrections",
    );
    expect(rows).toEqual([{ status: "sent", value: -7 }]);

    const after = await compareWithStripe(deps, { ...everything, now });
    expect(after.matches).toBe(true);
    expect(after.rows.find((row) => row.stripe_customer_id === a)).toMatchObject({
      status: "match",
      corrections_sent: 1,
    });
    // Nothing left to correct: a second run sends nothing.
    const again = await correctStripeDifferences(deps, { ...everything, now });
    expect(again.corrections).toEqual([]);
  });

  it("does not correct again while a correction may not show yet", async () => {
    const a = h.customer();
    await h.admit(a, 3);
    await h.flush();
    // The ledger says 3 units went out two hours ago; Stripe has them at another time (outside the
    // window compared), so over the settled window it holds 0.
    await h.sql.query(
      "update public.usage_batches set event_timestamp = now() - interval '2 hours', sent_at = now() - interval '2 hours'",
    );
    h.stack.stripe.setMeterEventRules({ summaryLagMs: 10 * 60_000 });
    const first = await correctStripeDifferences(deps, { from: FAR_PAST, to: FAR_FUTURE });
    expect(first.corrections).toEqual([expect.objectContaining({ value: 3, outcome: "sent" })]);
    // Stripe does not show the correction yet (it aggregates asynchronously): the row reads
    // correction_pending, and correcting again sends nothing.
    const pending = await compareWithStripe(deps, { from: FAR_PAST, to: FAR_FUTURE });
    expect(pending.rows).toEqual([
      expect.objectContaining({ stripe_aggregated: 0, difference: -3, status: "correction_pending" }),
    ]);
    const second = await correctStripeDifferences(deps, { from: FAR_PAST, to: FAR_FUTURE });
    expect(second.corrections).toEqual([]);
    // Once Stripe shows it, the window matches.
    h.stack.stripe.setMeterEventRules({ summaryLagMs: 0 });
    const settled = await compareWithStripe(deps, { from: FAR_PAST, to: FAR_FUTURE });
    expect(settled.rows).toEqual([expect.objectContaining({ stripe_aggregated: 3, status: "match" })]);
  });

  it("leaves windows younger than the settle delay alone, and a batch sent within it not settled", async () => {
    const [a, late] = [h.customer(), h.customer()];
    await h.admit(a, 2);
    await h.admit(late, 5);
    await h.flush();
    // With the default settle delay (60 min), usage of the last hour is not compared at all.
    const recent = await compareWithStripe(deps, { from: FAR_PAST, to: FAR_FUTURE });
    expect(recent.rows).toEqual([]);
    expect(recent.matches).toBe(true);
    // A batch of usage two hours old that was only sent now (a late retry) is not concluded.
    await h.sql.query(
      "update public.usage_batches set event_timestamp = now() - interval '2 hours' where stripe_customer_id = $1",
      [late],
    );
    const settled = await compareWithStripe(deps, { from: FAR_PAST, to: FAR_FUTURE });
    expect(settled.rows).toEqual([
      expect.objectContaining({ stripe_customer_id: late, status: "not_settled" }),
    ]);
    expect((await correctStripeDifferences(deps, { from: FAR_PAST, to: FAR_FUTURE })).corrections).toEqual(
      [],
    );
  });

  it("is served by GET /admin/reconciliation?stripe=1 and POST /admin/reconciliation/correct", async () => {
    const a = h.customer();
    await h.admit(a, 2);
    await h.flush();
    const app = newApp();
    const env = h.stack.vars as Env;
    const ctx = {
      waitUntil: () => {},
      passThroughOnException: () => {},
      props: {},
    } as unknown as ExecutionContext;
    const headers = { Authorization: `Bearer ${env.ADMIN_TOKEN}` };
    const query = "from=2000-01-01&to=2100-01-01&settle_minutes=0";
    const got = await app.request(
      `http://api.test/admin/reconciliation?${query}&stripe=1`,
      { headers },
      env,
      ctx,
    );
    expect(got.status, await got.clone().text()).toBe(200);
    const body = (await got.json()) as {
      balanced: boolean;
      stripe: { matches: boolean; settle_minutes: number };
    };
    expect(body.stripe).toMatchObject({ matches: true, settle_minutes: 0 });
    const without = await app.request(`http://api.test/admin/reconciliation?${query}`, { headers }, env, ctx);
    expect(await without.json()).not.toHaveProperty("stripe");
    const corrected = await app.request(
      `http://api.test/admin/reconciliation/correct?${query}`,
      { method: "POST", headers },
      env,
      ctx,
    );
    expect(corrected.status).toBe(200);
    expect(await corrected.json()).toMatchObject({ corrections: [] });
  });
});
