/**
 * End to end: a customer's billing lifecycle against the real Worker under `wrangler dev` (workerd,
 * eval forbidden), real Redis and Postgres behind the bridges, and the fake Stripe delivering its
 * webhooks (signed, with retries) to the running Worker. The client keeps one token throughout:
 * the limits it sees change at each step because the webhook writes the tier to Redis. A failed
 * renewal e-mails the customer through the Resend fake (sent in the Worker's waitUntil).
 */
import type Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setupStripe } from "../../scripts/stripe-setup";
import { createStripeClient } from "../../src/adapters/stripe/sdk";
import { type LocalStack, startLocalStack } from "../support/local-stack";
import { E2E_ADMISSION_TIMEOUT_MS, startWranglerDev, type WorkerProcess } from "../support/wrangler-dev";

const PORTAL_LOGIN = "https://billing.stripe.com/p/login/test_e2e";
let stack: LocalStack;
let worker: WorkerProcess;
let stripe: Stripe;

beforeAll(async () => {
  stack = await startLocalStack({ redis: "own" });
  // A generous admission budget, as in the access harness: a cold workerd's first EVAL can take
  // longer than the 50 ms production default, and free fails closed.
  worker = await startWranglerDev({
    vars: {
      ...(stack.vars as Record<string, string>),
      ADMISSION_TIMEOUT_MS: E2E_ADMISSION_TIMEOUT_MS,
      BILLING_PORTAL_LOGIN_URL: PORTAL_LOGIN,
    },
  });
  stack.stripe.setAutoDeliverTo(`${worker.url}/webhooks/stripe`);
  // What an operator does once: `npm run stripe:setup` (meter, product, metered price per paid tier).
  stripe = createStripeClient({
    secretKey: stack.stripe.apiKey,
    apiBase: stack.stripe.url,
    timeoutMs: 5000,
  });
  await setupStripe(stripe, {
    eventName: "api_validation",
    lookupKeys: { pro: "schema_meter_pro" },
    currency: "usd",
    unitAmountDecimal: "0.1",
  });
});

afterAll(async () => {
  await worker?.stop();
  await stack?.stop();
});

const api = (path: string, init: RequestInit = {}) => fetch(`${worker.url}${path}`, init);
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/**
 * The tier named by the RateLimit-Policy header of GET /v1/account with this token (a 429 carries
 * the header too: back on free, the sixth request in 10 s is refused under the free policy).
 */
async function policyOf(token: string): Promise<string> {
  const response = await api("/v1/account", { headers: bearer(token) });
  expect([200, 429], await response.clone().text()).toContain(response.status);
  return /^"([^"]+)"/.exec(response.headers.get("RateLimit-Policy") ?? "")?.[1] ?? "none";
}

describe("billing lifecycle, end to end", () => {
  it("signup → checkout → webhook → pro limits → cancellation → free limits", async () => {
    const signup = await api("/v1/signup", {
      method: "POST",
      headers: { "Content-Type": "application/json", "CF-Connecting-IP": "10.9.0.1" },
      body: JSON.stringify({ email: `e2e-billing-${Date.now()}@example.com` }),
    });
    expect(signup.status, await signup.clone().text()).toBe(201);
    const { api_key: apiKey, account_id: accountId } = (await signup.json()) as {
      api_key: string;
      account_id: string;
    };
    const minted = await api("/v1/token", { method: "POST", headers: bearer(apiKey) });
    const { token } = (await minted.json()) as { token: string };
    expect(await policyOf(token)).toBe("free");

    const checkout = await api("/v1/billing/checkout", {
      method: "POST",
      headers: { ...bearer(token), "Content-Type": "application/json" },
      body: JSON.stringify({ tier: "pro" }),
    });
    expect(checkout.status, await checkout.clone().text()).toBe(200);
    const { session_id: sessionId, url } = (await checkout.json()) as { session_id: string; url: string };
    expect(url).toContain(sessionId);

    // The customer pays on the hosted page; Stripe raises the events and delivers them.
    const { subscription } = stack.stripe.completeCheckout(sessionId);
    await stack.stripe.waitForWebhooks();
    const deliveries = stack.stripe.webhookDeliveries();
    expect(deliveries.map((d) => d.eventType)).toEqual(
      expect.arrayContaining(["customer.subscription.created", "invoice.paid", "checkout.session.completed"]),
    );
    expect(deliveries.every((d) => d.delivered)).toBe(true);
    expect(await policyOf(token)).toBe("pro");

    // Stripe redelivers an event it already delivered: acknowledged, nothing changes.
    const completed = stack.stripe.events().find((e) => e.type === "checkout.session.completed");
    const again = await stack.stripe.deliverWebhook(completed!, { url: `${worker.url}/webhooks/stripe` });
    expect(again.attempts.map((a) => a.status)).toEqual([200]);
    expect(await policyOf(token)).toBe("pro");

    const portal = await api("/v1/billing/portal", { method: "POST", headers: bearer(token) });
    expect(portal.status).toBe(200);

    // The customer cancels (portal or API): customer.subscription.deleted → back to free.
    await stripe.subscriptions.cancel(subscription.id);
    await stack.stripe.waitForWebhooks();
    expect(await policyOf(token)).toBe("free");

    // The operator sees every event and what it did.
    const events = await api("/admin/events?limit=50", { headers: bearer(stack.secrets.adminToken) });
    const { events: listed } = (await events.json()) as {
      events: Array<{ type: string; account_id: string | null }>;
    };
    expect(listed.filter((e) => e.account_id === accountId).map((e) => e.type)).toEqual(
      expect.arrayContaining(["checkout.session.completed", "customer.subscription.deleted"]),
    );
  });

  it("a failed renewal e-mails the customer once (redelivery included), and the paid retry confirms", async () => {
    const email = `e2e-dunning-${Date.now()}@example.com`;
    const signup = await api("/v1/signup", {
      method: "POST",
      headers: { "Content-Type": "application/json", "CF-Connecting-IP": "10.9.0.3" },
      body: JSON.stringify({ email }),
    });
    const { api_key: apiKey } = (await signup.json()) as { api_key: string };
    const { token } = (await (
      await api("/v1/token", { method: "POST", headers: bearer(apiKey) })
    ).json()) as { token: string };
    const checkout = await api("/v1/billing/checkout", {
      method: "POST",
      headers: { ...bearer(token), "Content-Type": "application/json" },
      body: JSON.stringify({ tier: "pro" }),
    });
    const { session_id: sessionId } = (await checkout.json()) as { session_id: string };
    const { subscription } = stack.stripe.completeCheckout(sessionId);
    await stack.stripe.waitForWebhooks();
    expect(await policyOf(token)).toBe("pro");

    // The renewal's payment fails: the webhook records the e-mail and waitUntil sends it. (The fake's
    // clock moves on first: in one second with the checkout's payment, that payment would win.)
    stack.stripe.advance(2000);
    stack.stripe.renewSubscription(subscription.id, { paid: false });
    await stack.stripe.waitForWebhooks();
    const subjects = () => stack.resend.messagesTo(email).map((message) => message.subject);
    await expect
      .poll(subjects, { timeout: 10_000, message: worker.output().slice(-4000) })
      .toEqual(["Schema Meter: your payment failed"]);
    const [failure] = stack.resend.messagesTo(email);
    expect(failure?.text).toMatch(/Your API access continues until \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC/);
    expect(failure?.text).toContain(`Update your card here: ${PORTAL_LOGIN}`);

    // Stripe delivers the failure again: acknowledged as a duplicate, no second e-mail.
    const failed = stack.stripe.events().findLast((e) => e.type === "invoice.payment_failed");
    const again = await stack.stripe.deliverWebhook(failed!, { url: `${worker.url}/webhooks/stripe` });
    expect(again.attempts.map((a) => a.status)).toEqual([200]);

    // The retry is paid: access restored, and one confirmation.
    stack.stripe.advance(2000);
    stack.stripe.renewSubscription(subscription.id, { paid: true });
    await stack.stripe.waitForWebhooks();
    await expect
      .poll(subjects, { timeout: 10_000 })
      .toEqual(["Schema Meter: your payment failed", "Schema Meter: payment received, access restored"]);
    expect(await policyOf(token)).toBe("pro");
  });

  it("a delivery that fails (Redis down after the commit) is retried by Stripe until it lands", async () => {
    const signup = await api("/v1/signup", {
      method: "POST",
      headers: { "Content-Type": "application/json", "CF-Connecting-IP": "10.9.0.2" },
      body: JSON.stringify({ email: `e2e-retry-${Date.now()}@example.com` }),
    });
    const { api_key: apiKey } = (await signup.json()) as { api_key: string };
    const { token } = (await (
      await api("/v1/token", { method: "POST", headers: bearer(apiKey) })
    ).json()) as {
      token: string;
    };
    const checkout = await api("/v1/billing/checkout", {
      method: "POST",
      headers: { ...bearer(token), "Content-Type": "application/json" },
      body: JSON.stringify({ tier: "pro" }),
    });
    const { session_id: sessionId } = (await checkout.json()) as { session_id: string };

    // This time the test delivers, with a slower backoff, while Redis is down for the first attempt.
    stack.stripe.setAutoDeliverTo(undefined);
    const before = new Set(stack.stripe.events().map((e) => e.id));
    stack.stripe.completeCheckout(sessionId);
    const raised = stack.stripe.events().filter((e) => !before.has(e.id));
    await stack.redis.stop();
    const restart = new Promise<void>((resolve, reject) => {
      setTimeout(() => stack.redis.start().then(resolve, reject), 500);
    });
    const target = `${worker.url}/webhooks/stripe`;
    const results = await Promise.all(
      raised.map((event) =>
        stack.stripe.deliverWebhook(event, { url: target, maxAttempts: 6, backoffMs: () => 700 }),
      ),
    );
    await restart;
    stack.stripe.setAutoDeliverTo(target);
    const first = results.find((r) => r.attempts.length > 1);
    expect(first, JSON.stringify(results.map((r) => r.attempts))).toBeDefined();
    expect(first?.attempts[0]?.status).toBe(503);
    expect(results.every((r) => r.delivered)).toBe(true);
    expect(await policyOf(token)).toBe("pro");
  });
});
