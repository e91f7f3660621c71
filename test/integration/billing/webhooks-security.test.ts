/**
 * The webhook's signature check, on the raw body as Stripe signs it: anything but a fresh, valid
 * signature with our secret (not older, nor further ahead, than 5 minutes) is 400 with no detail,
 * and records nothing; a signed body that is not a Stripe event is 400 naming the bad field.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stripeSignatureHeader } from "../../support/stripe-fake/webhooks/signature";
import { type AccessHarness, problemOf, startAccessHarness } from "../harness/access";
import {
  checkoutSessionObject,
  nowSeconds,
  uniqueId,
  type WebhookClient,
  webhookClient,
} from "../harness/webhooks";

let h: AccessHarness;
let client: WebhookClient;

beforeAll(async () => {
  h = await startAccessHarness();
  client = webhookClient(h);
});
afterAll(async () => {
  await h?.stop();
});

async function signedCheckout() {
  const account = await h.account();
  const event = client.event(
    "checkout.session.completed",
    checkoutSessionObject({
      customer: uniqueId("cus_"),
      subscription: uniqueId("sub_"),
      accountId: account.id,
    }),
    nowSeconds(),
  );
  const payload = JSON.stringify(event, null, 2);
  return { account, event, payload };
}

async function expectRefused(response: Response, eventId: string) {
  expect(response.status).toBe(400);
  const problem = await problemOf(response);
  expect(problem).toMatchObject({
    code: "WEBHOOK_SIGNATURE_INVALID",
    detail: "The webhook signature could not be verified.",
  });
  expect(JSON.stringify(problem)).not.toMatch(/timestamp|tolerance|secret|expected|whsec/i);
  const { rows } = await h.sql.query("select 1 from public.billing_events where id = $1", [eventId]);
  expect(rows).toHaveLength(0);
}

describe("POST /webhooks/stripe signature", () => {
  it("accepts the payload exactly as signed", async () => {
    const { event, payload } = await signedCheckout();
    expect((await client.deliver(payload)).status).toBe(200);
    const { rows } = await h.sql.query("select outcome from public.billing_events where id = $1", [event.id]);
    expect(rows).toEqual([{ outcome: "applied" }]);
  });

  it("refuses a tampered body (signature of the original)", async () => {
    const { event, payload } = await signedCheckout();
    const signature = h.stack.stripe.signWebhookPayload(payload);
    const tampered = payload.replace('"tier": "pro"', '"tier": "team"');
    expect(tampered).not.toBe(payload);
    await expectRefused(await client.deliver(tampered, { signature }), event.id);
  });

  it("refuses a re-serialised body (same JSON, different bytes)", async () => {
    const { event, payload } = await signedCheckout();
    const signature = h.stack.stripe.signWebhookPayload(payload);
    await expectRefused(await client.deliver(JSON.stringify(JSON.parse(payload)), { signature }), event.id);
  });

  it("refuses a signature made with another secret", async () => {
    const { event, payload } = await signedCheckout();
    const signature = h.stack.stripe.signWebhookPayload(payload, { secret: "whsec_not_ours_at_all" });
    await expectRefused(await client.deliver(payload, { signature }), event.id);
  });

  it("refuses a signature older than 5 minutes (replay), accepts one just inside", async () => {
    const { event, payload } = await signedCheckout();
    const old = h.stack.stripe.signWebhookPayload(payload, { timestamp: nowSeconds() - 301 });
    await expectRefused(await client.deliver(payload, { signature: old }), event.id);
    const recent = h.stack.stripe.signWebhookPayload(payload, { timestamp: nowSeconds() - 240 });
    expect((await client.deliver(payload, { signature: recent })).status).toBe(200);
  });

  it("refuses a signature dated more than 5 minutes ahead (a captured delivery replayable later), accepts one just inside", async () => {
    const { event, payload } = await signedCheckout();
    const future = h.stack.stripe.signWebhookPayload(payload, { timestamp: nowSeconds() + 3600 });
    await expectRefused(await client.deliver(payload, { signature: future }), event.id);
    const skewed = h.stack.stripe.signWebhookPayload(payload, { timestamp: nowSeconds() + 60 });
    expect((await client.deliver(payload, { signature: skewed })).status).toBe(200);
  });

  it.each([
    ["no id", { type: "checkout.session.completed", created: 1, data: { object: {} } }, "id"],
    ["a numeric id", { id: 7, type: "invoice.paid", created: 1, data: { object: {} } }, "id"],
    [
      "a created time that is not a number",
      { id: "evt_x", type: "invoice.paid", created: "soon", data: { object: {} } },
      "created",
    ],
    [
      "a created time past year 9999",
      { id: "evt_x", type: "invoice.paid", created: 1e15, data: { object: {} } },
      "created",
    ],
    ["no data.object", { id: "evt_x", type: "invoice.paid", created: 1, data: {} }, "data.object"],
    ["an array", [], "the event"],
  ])(
    "a correctly signed body with %s is 400 BAD_REQUEST naming the field, not a 500",
    async (_name, body, field) => {
      const response = await client.deliver(JSON.stringify(body));
      expect(response.status).toBe(400);
      const problem = await problemOf(response);
      expect(problem).toMatchObject({ code: "BAD_REQUEST" });
      expect(problem.detail).toContain(field);
    },
  );

  it("refuses a missing or malformed header, and an unsigned scheme", async () => {
    const { event, payload } = await signedCheckout();
    const post = (headers: Record<string, string>) =>
      h.request("/webhooks/stripe", { method: "POST", headers, body: payload });
    await expectRefused(await post({ "Content-Type": "application/json" }), event.id);
    await expectRefused(await post({ "Stripe-Signature": "garbage" }), event.id);
    const t = nowSeconds();
    const v0Only = stripeSignatureHeader(payload, h.stack.secrets.stripeWebhookSecret, t).replace(
      "v1=",
      "v0=",
    );
    await expectRefused(await post({ "Stripe-Signature": v0Only }), event.id);
  });

  it("accepts a header carrying several v1 signatures when one matches (secret rotation)", async () => {
    const { payload } = await signedCheckout();
    const t = nowSeconds();
    const ours = stripeSignatureHeader(payload, h.stack.secrets.stripeWebhookSecret, t);
    const theirs = stripeSignatureHeader(payload, "whsec_previous_secret", t);
    // The matching signature second: checking only the first v1 would refuse this.
    const both = `${theirs},${ours.split(",")[1]}`;
    expect((await client.deliver(payload, { signature: both })).status).toBe(200);
  });

  it("a body that is not JSON but correctly signed is still refused without detail", async () => {
    const payload = "not json";
    const response = await client.deliver(payload);
    expect(response.status).toBe(400);
    expect((await problemOf(response)).code).toBe("WEBHOOK_SIGNATURE_INVALID");
  });
});
