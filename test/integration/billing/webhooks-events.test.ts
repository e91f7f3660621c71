/**
 * Each Stripe event type the webhook acts on, one at a time, against real Postgres and Redis: what
 * it does to the account (Postgres, read by the token service) and to the edge (Redis, read by
 * the hot path), seen by a client holding a token minted before the change. Plus self-serve
 * checkout and portal against the fake Stripe.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setupStripe } from "../../../scripts/stripe-setup";
import { createStripeClient } from "../../../src/adapters/stripe/sdk";
import { type AccessHarness, problemOf, startAccessHarness } from "../harness/access";
import {
  billingSnapshot,
  checkoutSessionObject,
  invoiceEvent,
  invoiceObject,
  mintToken,
  payingCustomer as newPayingCustomer,
  nowSeconds,
  PRO_LOOKUP_KEY,
  policySeenWith,
  subscriptionObject,
  uniqueId,
  type WebhookClient,
  webhookClient,
} from "../harness/webhooks";

const TEAM_LOOKUP_KEY = "schema_meter_team";
const DAY = 86_400;

let h: AccessHarness;
let client: WebhookClient;

beforeAll(async () => {
  h = await startAccessHarness({
    env: {
      RATE_LIMIT_TIERS: JSON.stringify({
        free: { limit: 5, windowSeconds: 10 },
        pro: { limit: 100, windowSeconds: 10 },
        team: { limit: 500, windowSeconds: 10 },
      }),
      BILLING_PRICE_LOOKUP_KEYS: JSON.stringify({ pro: PRO_LOOKUP_KEY, team: TEAM_LOOKUP_KEY }),
    },
  });
  client = webhookClient(h);
});
afterAll(async () => {
  await h?.stop();
});

/** A paying customer: checkout completed (linked, pro) at `t0`. */
const payingCustomer = (t0 = nowSeconds() - 10 * DAY) => newPayingCustomer(h, client, t0);

/** Stripe's cancellation of the paying customer's subscription, now. */
const subscriptionDeleted = (paying: Awaited<ReturnType<typeof payingCustomer>>) =>
  client.event(
    "customer.subscription.deleted",
    subscriptionObject({
      id: paying.subscription,
      customer: paying.customer,
      status: "canceled",
      created: paying.t0,
    }),
    nowSeconds(),
  );

describe("checkout.session.completed", () => {
  it("links the customer, upgrades the tier, and a token minted before sees pro limits", async () => {
    const account = await h.account();
    expect(await policySeenWith(h, account.token)).toBe("free");
    const customer = uniqueId("cus_");
    const receipt = await client.deliverOk(
      client.event(
        "checkout.session.completed",
        checkoutSessionObject({ customer, subscription: uniqueId("sub_"), accountId: account.id }),
        nowSeconds(),
      ),
    );
    expect(receipt).toEqual(expect.objectContaining({ outcome: "applied", duplicate: false }));
    expect(await billingSnapshot(h, account.id)).toMatchObject({
      tier: "pro",
      status: "active",
      stripe_customer_id: customer,
      edge_tier: "pro",
      edge_denied: false,
    });
    expect(await policySeenWith(h, account.token)).toBe("pro");
  });

  it("a payment-mode session is recorded as ignored", async () => {
    const account = await h.account();
    const session = checkoutSessionObject({
      customer: uniqueId("cus_"),
      subscription: null,
      accountId: account.id,
      mode: "payment",
    });
    expect(
      await client.deliverOk(client.event("checkout.session.completed", session, nowSeconds())),
    ).toMatchObject({
      outcome: "ignored",
    });
    expect(await billingSnapshot(h, account.id)).toMatchObject({ tier: "free", stripe_customer_id: null });
  });

  it("a subscription seen before its checkout is kept and counted once the checkout links the customer", async () => {
    const account = await h.account();
    const customer = uniqueId("cus_");
    const subscription = uniqueId("sub_");
    const t0 = nowSeconds();
    const early = client.event(
      "customer.subscription.created",
      subscriptionObject({
        id: subscription,
        customer,
        status: "active",
        created: t0,
        lookupKey: TEAM_LOOKUP_KEY,
      }),
      t0,
    );
    expect(await client.deliverOk(early)).toMatchObject({ outcome: "unmatched" });
    // Paid asynchronously: the session links but does not itself decide the status.
    const session = checkoutSessionObject({
      customer,
      subscription,
      accountId: account.id,
      paymentStatus: "unpaid",
    });
    await client.deliverOk(client.event("checkout.session.completed", session, t0));
    expect(await billingSnapshot(h, account.id)).toMatchObject({ tier: "team", edge_tier: "team" });
  });
});

describe("customer.subscription.created / updated", () => {
  it("take status and tier from the price's lookup key", async () => {
    const paying = await payingCustomer();
    const base = { id: paying.subscription, customer: paying.customer, created: paying.t0 };
    await client.deliverOk(
      client.event(
        "customer.subscription.updated",
        subscriptionObject({ ...base, status: "active", lookupKey: TEAM_LOOKUP_KEY }),
        paying.t0 + 60,
      ),
    );
    expect(await billingSnapshot(h, paying.id)).toMatchObject({ tier: "team", edge_tier: "team" });
    expect(await policySeenWith(h, paying.token)).toBe("team");

    await client.deliverOk(
      client.event(
        "customer.subscription.updated",
        subscriptionObject({ ...base, status: "past_due" }),
        paying.t0 + 120,
      ),
    );
    expect(await billingSnapshot(h, paying.id)).toMatchObject({ tier: "pro", status: "past_due" });
  });

  it("take the tier from price metadata when the price has no lookup key", async () => {
    const paying = await payingCustomer();
    const subscription = subscriptionObject({
      id: paying.subscription,
      customer: paying.customer,
      created: paying.t0,
      status: "active",
      lookupKey: null,
    });
    subscription.items.data[0].price.lookup_key = null;
    subscription.items.data[0].price.metadata = { tier: "team" };
    await client.deliverOk(client.event("customer.subscription.updated", subscription, paying.t0 + 60));
    expect(await billingSnapshot(h, paying.id)).toMatchObject({ tier: "team" });
  });
});

describe("invoice.payment_failed and invoice.paid", () => {
  it("past due with a 3-day grace from the failure; restricted after it; cleared when paid", async () => {
    const paying = await payingCustomer(nowSeconds() - 10 * DAY);
    const failedAt = nowSeconds() - 60;
    const failed = (created: number) => invoiceEvent(client, "invoice.payment_failed", paying, created);
    await client.deliverOk(failed(failedAt));
    const inGrace = await billingSnapshot(h, paying.id);
    expect(inGrace).toMatchObject({ tier: "pro", status: "past_due", edge_denied: false });
    expect(Date.parse(inGrace.grace_until as string) / 1000).toBe(failedAt + 3 * DAY);
    expect(await mintToken(h, paying.apiKey)).toBe("ok");
    expect(await policySeenWith(h, paying.token)).toBe("pro");

    // A later failure whose grace is already over (the clock moved on): access is restricted.
    const longAgo = nowSeconds() - 4 * DAY;
    const pastGrace = await payingCustomer(longAgo - DAY);
    await client.deliverOk(invoiceEvent(client, "invoice.payment_failed", pastGrace, longAgo));
    expect(await billingSnapshot(h, pastGrace.id)).toMatchObject({ status: "past_due", edge_denied: true });
    expect(await mintToken(h, pastGrace.apiKey)).toBe("ACCOUNT_PAST_DUE");
    expect(await policySeenWith(h, pastGrace.token)).toBe("TOKEN_REVOKED");

    const paidAt = nowSeconds();
    await client.deliverOk(invoiceEvent(client, "invoice.paid", pastGrace, paidAt));
    expect(await billingSnapshot(h, pastGrace.id)).toMatchObject({
      tier: "pro",
      status: "active",
      grace_until: null,
      edge_denied: false,
    });
    expect(await mintToken(h, pastGrace.apiKey)).toBe("ok");
    expect(await policySeenWith(h, pastGrace.token)).toBe("pro");
    const { rows } = await h.sql.query(
      "select paid_through from public.billing_subscriptions where id = $1",
      [pastGrace.subscription],
    );
    expect((rows[0].paid_through as Date).getTime() / 1000).toBe(paidAt + 30 * DAY);
  });

  it("the grace period is configurable (BILLING_GRACE_DAYS)", async () => {
    const paying = await payingCustomer();
    const failedAt = nowSeconds();
    await client.deliverOk(invoiceEvent(client, "invoice.payment_failed", paying, failedAt, failedAt), {
      ...h.env,
      BILLING_GRACE_DAYS: "1",
    });
    const snapshot = await billingSnapshot(h, paying.id);
    expect(Date.parse(snapshot.grace_until as string) / 1000).toBe(failedAt + DAY);
  });

  it("an invoice of no subscription is ignored", async () => {
    const invoice = invoiceObject({
      customer: uniqueId("cus_"),
      subscription: "x",
      paid: true,
      created: 1,
      periodEnd: 1,
    });
    Object.assign(invoice, { parent: null });
    expect(await client.deliverOk(client.event("invoice.paid", invoice, nowSeconds()))).toMatchObject({
      outcome: "ignored",
    });
  });
});

describe("customer.subscription.deleted", () => {
  it("downgrades to free by default; the old token sees free limits at once", async () => {
    const paying = await payingCustomer();
    expect(await policySeenWith(h, paying.token)).toBe("pro");
    await client.deliverOk(subscriptionDeleted(paying));
    expect(await billingSnapshot(h, paying.id)).toMatchObject({
      tier: "free",
      status: "active",
      edge_tier: "free",
    });
    expect(await policySeenWith(h, paying.token)).toBe("free");
    expect(await mintToken(h, paying.apiKey)).toBe("ok");
  });

  it("revokes access when BILLING_ON_SUBSCRIPTION_DELETED=revoke", async () => {
    const paying = await payingCustomer();
    const env = { ...h.env, BILLING_ON_SUBSCRIPTION_DELETED: "revoke" };
    await client.deliverOk(subscriptionDeleted(paying), env);
    expect(await billingSnapshot(h, paying.id)).toMatchObject({
      tier: "free",
      status: "suspended",
      billing_suspended: true,
      edge_denied: true,
    });
    expect(await policySeenWith(h, paying.token)).toBe("TOKEN_REVOKED");
    expect(await mintToken(h, paying.apiKey)).toBe("ACCOUNT_SUSPENDED");
  });

  it("never touches an account an operator closed", async () => {
    const paying = await payingCustomer();
    await h.sql.query("update public.accounts set status = 'closed' where id = $1", [paying.id]);
    await client.deliverOk(subscriptionDeleted(paying));
    expect(await billingSnapshot(h, paying.id)).toMatchObject({ tier: "pro", status: "closed" });
  });
});

describe("other event types", () => {
  it("answer 200 and are recorded as ignored", async () => {
    for (const type of ["customer.created", "price.created", "invoice.finalized", "charge.succeeded"]) {
      const event = client.event(type, { id: uniqueId("obj_"), object: type.split(".")[0] }, nowSeconds());
      expect(await client.deliverOk(event)).toMatchObject({ outcome: "ignored", duplicate: false });
    }
  });
});

describe("self-serve billing", () => {
  let priceCreated = false;
  async function ensurePrice() {
    if (priceCreated) return;
    // As an operator sets billing up: `npm run stripe:setup`.
    const stripe = createStripeClient({
      secretKey: h.stack.stripe.apiKey,
      apiBase: h.stack.stripe.url,
      timeoutMs: 5000,
    });
    await setupStripe(stripe, {
      eventName: "api_validation",
      lookupKeys: { pro: PRO_LOOKUP_KEY },
      currency: "usd",
      unitAmountDecimal: "0.1",
    });
    priceCreated = true;
  }

  const post = (path: string, token: string | undefined, body?: unknown) =>
    h.request(path, {
      method: "POST",
      headers: {
        ...(token && { Authorization: `Bearer ${token}` }),
        ...(body !== undefined && { "Content-Type": "application/json" }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });

  it("checkout URL for a tier, then (after paying) a portal URL; the webhook decides the tier", async () => {
    await ensurePrice();
    const account = await h.account();
    const noCustomer = await post("/v1/billing/portal", account.token);
    expect(noCustomer.status).toBe(409);
    expect((await problemOf(noCustomer)).code).toBe("BILLING_NO_CUSTOMER");

    const checkout = await post("/v1/billing/checkout", account.token, { tier: "pro" });
    expect(checkout.status, await checkout.clone().text()).toBe(200);
    const { url, session_id: sessionId } = (await checkout.json()) as { url: string; session_id: string };
    expect(url.startsWith(h.stack.stripe.url)).toBe(true);
    expect(checkout.headers.get("RateLimit-Policy")).toContain('"free"');

    const before = new Set(h.stack.stripe.events().map((e) => e.id));
    const { session } = h.stack.stripe.completeCheckout(sessionId);
    expect(session).toMatchObject({
      client_reference_id: account.id,
      metadata: { account_id: account.id, tier: "pro" },
    });
    for (const event of h.stack.stripe.events().filter((e) => !before.has(e.id)))
      await client.deliverOk(event);
    expect(await billingSnapshot(h, account.id)).toMatchObject({
      tier: "pro",
      status: "active",
      edge_tier: "pro",
    });
    expect(await policySeenWith(h, account.token)).toBe("pro");

    const portal = await post("/v1/billing/portal", account.token);
    expect(portal.status).toBe(200);
    expect(((await portal.json()) as { url: string }).url.startsWith(h.stack.stripe.url)).toBe(true);
  });

  it("a checkout retried with its Idempotency-Key gets the same session; another tier with that key is 422", async () => {
    await ensurePrice();
    const account = await h.account();
    const key = crypto.randomUUID();
    const checkout = (body: unknown) =>
      h.request("/v1/billing/checkout", {
        method: "POST",
        headers: {
          Authorization: `Bearer ${account.token}`,
          "Content-Type": "application/json",
          "Idempotency-Key": key,
        },
        body: JSON.stringify(body),
      });
    const sessionsCreated = () =>
      h.stack.stripe.requests().filter((r) => r.method === "POST" && r.path === "/v1/checkout/sessions")
        .length;
    const before = sessionsCreated();
    const first = await checkout({ tier: "pro" });
    expect(first.status, await first.clone().text()).toBe(200);
    const firstBody = (await first.json()) as { session_id: string };
    await h.settle();
    const retry = await checkout({ tier: "pro" });
    expect(retry.status).toBe(200);
    expect(retry.headers.get("Idempotent-Replayed")).toBe("true");
    expect(((await retry.json()) as { session_id: string }).session_id).toBe(firstBody.session_id);
    expect(sessionsCreated() - before).toBe(1);
    const other = await checkout({ tier: "team" });
    expect(other.status).toBe(422);
    expect((await problemOf(other)).code).toBe("IDEMPOTENCY_KEY_REUSED");
    expect(sessionsCreated() - before).toBe(1);
  });

  it("refuses tiers that cannot be bought, bad bodies and missing tokens", async () => {
    const account = await h.account();
    const team = await post("/v1/billing/checkout", account.token, { tier: "free" });
    expect(team.status).toBe(422);
    expect((await problemOf(team)).code).toBe("BILLING_TIER_UNAVAILABLE");
    expect((await post("/v1/billing/checkout", account.token, {})).status).toBe(400);
    expect((await post("/v1/billing/checkout", undefined, { tier: "pro" })).status).toBe(401);
    expect((await post("/v1/billing/portal", undefined)).status).toBe(401);
  });

  it("Checkout returns to the configured pages only, whatever Host the request names", async () => {
    await ensurePrice();
    const account = await h.account();
    const response = await h.request("/v1/billing/checkout", {
      method: "POST",
      headers: {
        Authorization: `Bearer ${account.token}`,
        "Content-Type": "application/json",
        Host: "evil.example",
        "X-Forwarded-Host": "evil.example",
      },
      body: JSON.stringify({ tier: "pro" }),
    });
    expect(response.status).toBe(200);
    const { session_id: sessionId } = (await response.json()) as { session_id: string };
    const session = h.stack.stripe.completeCheckout(sessionId).session;
    expect(session.success_url).toBe(h.env.BILLING_SUCCESS_URL);
    expect(session.cancel_url).toBe(h.env.BILLING_CANCEL_URL);

    // Without a configured return page, billing is not set up: a 503 naming the setting.
    const unset = { ...h.env, BILLING_SUCCESS_URL: undefined, BILLING_CANCEL_URL: undefined };
    const refused = await h.request(
      "/v1/billing/checkout",
      {
        method: "POST",
        headers: { Authorization: `Bearer ${account.token}`, "Content-Type": "application/json" },
        body: JSON.stringify({ tier: "pro" }),
      },
      unset,
    );
    expect(refused.status).toBe(503);
    expect(await problemOf(refused)).toMatchObject({
      code: "SERVICE_MISCONFIGURED",
      detail: "Billing is not set up: BILLING_SUCCESS_URL is not configured.",
    });
  });

  it("a tier whose price is missing in Stripe is a configuration problem, not the client's", async () => {
    const account = await h.account();
    const response = await post("/v1/billing/checkout", account.token, { tier: "team" });
    expect(response.status).toBe(503);
    expect((await problemOf(response)).code).toBe("SERVICE_MISCONFIGURED");
  });
});
