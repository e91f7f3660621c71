/** `npm run stripe:setup` against the fake Stripe: creates the catalogue once, then finds it. */
import { afterAll, beforeAll, expect, it } from "vitest";
import { setupStripe } from "../../../scripts/stripe-setup";
import { createStripeClient } from "../../../src/adapters/stripe/sdk";
import { type StripeFake, startStripeFake } from "../../support/stripe-fake";

let fake: StripeFake;

beforeAll(async () => {
  fake = await startStripeFake();
});
afterAll(async () => {
  await fake?.close();
});

it("is idempotent: meter, product and metered price per paid tier, same ids on the second run", async () => {
  const stripe = createStripeClient({ secretKey: fake.apiKey, apiBase: fake.url, timeoutMs: 5000 });
  const options = {
    eventName: "api_validation",
    lookupKeys: { pro: "schema_meter_pro", team: "schema_meter_team" },
    currency: "usd",
    unitAmountDecimal: "0.1",
  };
  const first = await setupStripe(stripe, options);
  expect(first.meter.created).toBe(true);
  expect(first.tiers.pro).toMatchObject({ product: "schema_meter_pro", created: true });
  const second = await setupStripe(stripe, options);
  expect(second.meter).toEqual({ ...first.meter, created: false });
  expect(second.tiers).toEqual({
    pro: { ...first.tiers.pro, created: false },
    team: { ...first.tiers.team, created: false },
  });
  const meters = await stripe.billing.meters.list({ status: "active" });
  expect(meters.data.filter((m) => m.event_name === "api_validation")).toHaveLength(1);
  expect(meters.data[0]?.default_aggregation.formula).toBe("sum");
  const price = await stripe.prices.retrieve(first.tiers.pro!.price);
  expect(price).toMatchObject({
    lookup_key: "schema_meter_pro",
    recurring: { usage_type: "metered", meter: first.meter.id, interval: "month" },
  });

  // And meter events for that event name are accepted and summed.
  const customer = fake.createCustomer();
  await stripe.billing.meterEvents.create({
    event_name: "api_validation",
    payload: { stripe_customer_id: customer.id, value: "3" },
    identifier: "setup-check-1",
  });
  expect(fake.unitsByCustomer()).toEqual({ [customer.id]: 3 });
});
