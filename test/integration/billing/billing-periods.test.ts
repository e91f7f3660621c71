/**
 * The webhooks record each subscription billing period they see (migrations/0016,
 * `record_billing_periods`), which the flusher uses to never let a meter event straddle a period
 * boundary: a renewal's `customer.subscription.updated` adds the next period, and a redelivery
 * adds nothing.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { type AccessHarness, startAccessHarness } from "../harness/access";
import {
  nowSeconds,
  subscriptionObject,
  uniqueId,
  type WebhookClient,
  webhookClient,
} from "../harness/webhooks";

const DAY = 86_400;
let h: AccessHarness;
let client: WebhookClient;

beforeAll(async () => {
  h = await startAccessHarness();
  client = webhookClient(h);
});
afterAll(async () => {
  await h?.stop();
});

it("records the periods of subscription events once each, the renewal's next to the first", async () => {
  const ids = { customer: uniqueId("cus_"), subscription: uniqueId("sub_") };
  const start = nowSeconds() - 40 * DAY;
  const created = subscriptionObject({
    id: ids.subscription,
    customer: ids.customer,
    status: "active",
    created: start,
  });
  const event = client.event("customer.subscription.created", created, start);
  await client.deliverOk(event);
  await client.deliverOk(event); // a redelivery
  const renewed = subscriptionObject({
    id: ids.subscription,
    customer: ids.customer,
    status: "active",
    created: start + 30 * DAY,
  });
  await client.deliverOk(client.event("customer.subscription.updated", renewed, start + 30 * DAY));
  const { rows } = await h.sql.query(
    `select customer_id, extract(epoch from period_start)::bigint::text as start,
       extract(epoch from period_end)::bigint::text as end
     from public.billing_periods where subscription_id = $1 order by period_start`,
    [ids.subscription],
  );
  expect(rows).toEqual([
    { customer_id: ids.customer, start: String(start), end: String(start + 30 * DAY) },
    { customer_id: ids.customer, start: String(start + 30 * DAY), end: String(start + 60 * DAY) },
  ]);
});
