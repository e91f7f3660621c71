/**
 * Monthly quotas and spend caps end to end in real workerd (`wrangler dev`, the built Worker) with
 * real Redis and Postgres and the fake Stripe: the free tier's quota refuses with 429
 * QUOTA_EXCEEDED and its reset, writing nothing; a paying account's spend cap (PUT, then DELETE
 * /v1/account/spend-cap) refuses past it and lets calls through once removed; /v1/account shows
 * quota, cap, used and remaining; only the 2xx answers reach Stripe through the flusher.
 */
import type Stripe from "stripe";
import { afterAll, beforeAll, expect, it } from "vitest";
import { setupStripe } from "../../scripts/stripe-setup";
import { createStripeClient } from "../../src/adapters/stripe/sdk";
import { plain } from "../integration/harness/access";
import { type LocalStack, startLocalStack } from "../support/local-stack";
import { parseRedisUrl, RespClient } from "../support/resp";
import { E2E_ADMISSION_TIMEOUT_MS, startWranglerDev, type WorkerProcess } from "../support/wrangler-dev";

let stack: LocalStack;
let worker: WorkerProcess;
let stripe: Stripe;
let redis: RespClient;

beforeAll(async () => {
  stack = await startLocalStack({ redis: "own" });
  worker = await startWranglerDev({
    vars: {
      ...stack.vars,
      FLUSH_SETTLE_SECONDS: "0",
      ADMISSION_TIMEOUT_MS: E2E_ADMISSION_TIMEOUT_MS,
      RATE_LIMIT_TIERS: JSON.stringify({
        free: { limit: 50, windowSeconds: 10, monthlyQuota: 2 },
        pro: { limit: 100, windowSeconds: 10 },
      }),
    },
    testScheduled: true,
  });
  stack.stripe.setAutoDeliverTo(`${worker.url}/webhooks/stripe`);
  stripe = createStripeClient({ secretKey: stack.stripe.apiKey, apiBase: stack.stripe.url, timeoutMs: 5000 });
  await setupStripe(stripe, {
    eventName: stack.vars.STRIPE_METER_EVENT_NAME ?? "api_validation",
    lookupKeys: { pro: "schema_meter_pro" },
    currency: "usd",
    unitAmountDecimal: "0.1",
  });
  redis = new RespClient({ ...parseRedisUrl(stack.redis.url), commandTimeoutMs: 2000 });
});

afterAll(async () => {
  await redis?.close();
  await worker?.stop();
  await stack?.stop();
});

const api = (path: string, init?: RequestInit) => fetch(`${worker.url}${path}`, init);
const validate = (credential: string) =>
  api("/v1/validate", {
    method: "POST",
    headers: { Authorization: `Bearer ${credential}`, "Content-Type": "application/json" },
    body: JSON.stringify({ schema: { type: "integer" }, data: 1 }),
  });
const usageOf = async (credential: string) => {
  const response = await api("/v1/account", { headers: { Authorization: `Bearer ${credential}` } });
  expect(response.status).toBe(200);
  return ((await response.json()) as { usage: Record<string, unknown> }).usage;
};
const putCap = (credential: string, monthlyUnits: number | null) =>
  api("/v1/account/spend-cap", {
    method: "PUT",
    headers: { Authorization: `Bearer ${credential}`, "Content-Type": "application/json" },
    body: JSON.stringify({ monthly_units: monthlyUnits }),
  });

let signups = 0;
async function signUp(): Promise<{ id: string; apiKey: string }> {
  const response = await api("/v1/signup", {
    method: "POST",
    headers: { "Content-Type": "application/json", "CF-Connecting-IP": `10.12.0.${++signups}` },
    body: JSON.stringify({ email: `e2e-quota-${signups}-${Date.now()}@example.com` }),
  });
  expect(response.status, await response.clone().text()).toBe(201);
  const body = (await response.json()) as { account_id: string; api_key: string };
  return { id: body.account_id, apiKey: body.api_key };
}

const nextMonth = () => {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)).toISOString();
};
const text = async (...args: string[]) => plain(await redis.command(args));
/** Usage stream entries of `subject` (the flusher has not run in this test: nothing was removed). */
const streamEntriesOf = async (subject: string) => {
  const entries = (plain(await redis.command(["XRANGE", "sm:usage-stream", "-", "+"])) ?? []) as [
    string,
    string[],
  ][];
  return entries.filter(([, fields]) => fields.includes(subject)).length;
};

it("the free tier's monthly quota: 429 QUOTA_EXCEEDED with the reset, not billed; no cap for free", async () => {
  const { id, apiKey } = await signUp();
  expect((await validate(apiKey)).status).toBe(200);
  expect((await validate(apiKey)).status).toBe(200);
  const refused = await validate(apiKey);
  expect(refused.status).toBe(429);
  expect(refused.headers.get("Content-Type")).toBe("application/problem+json");
  expect(await refused.json()).toMatchObject({
    code: "QUOTA_EXCEEDED",
    quota_kind: "quota",
    quota: 2,
    used: 2,
    reset_at: nextMonth(),
  });
  expect(Number(refused.headers.get("Retry-After"))).toBeGreaterThan(0);
  const period = new Date().toISOString().slice(0, 7);
  expect(await text("GET", `sm:usage:${id}:${period}`)).toBe("2");
  expect(await streamEntriesOf(id)).toBe(2);
  expect(await usageOf(apiKey)).toMatchObject({
    units: 2,
    monthly_quota: 2,
    spend_cap: null,
    limit: 2,
    remaining: 0,
    resets_at: nextMonth(),
  });
  const capRefused = await putCap(apiKey, 10);
  expect(capRefused.status).toBe(403);
  expect(await capRefused.json()).toMatchObject({ code: "SPEND_CAP_UNAVAILABLE" });
});

it("a paying account's spend cap: refused past it, through again once removed; Stripe gets only the 2xx", async () => {
  const { apiKey } = await signUp();
  const checkout = await api("/v1/billing/checkout", {
    method: "POST",
    headers: { Authorization: `Bearer ${apiKey}`, "Content-Type": "application/json" },
    body: JSON.stringify({ tier: "pro" }),
  });
  expect(checkout.status, await checkout.clone().text()).toBe(200);
  const { session_id: sessionId } = (await checkout.json()) as { session_id: string };
  stack.stripe.completeCheckout(sessionId);
  await stack.stripe.waitForWebhooks();
  const account = await api("/v1/account", { headers: { Authorization: `Bearer ${apiKey}` } });
  const { tier, stripe_customer_id: customer } = (await account.json()) as {
    tier: string;
    stripe_customer_id: string;
  };
  expect(tier).toBe("pro");

  const set = await putCap(apiKey, 1);
  expect(set.status, await set.clone().text()).toBe(200);
  expect(await set.json()).toMatchObject({ spend_cap: 1, usage: { limit: 1, remaining: 1 } });
  expect((await validate(apiKey)).status).toBe(200);
  const refused = await validate(apiKey);
  expect(refused.status).toBe(429);
  expect(await refused.json()).toMatchObject({ code: "QUOTA_EXCEEDED", quota_kind: "cap", quota: 1 });
  expect(await usageOf(apiKey)).toMatchObject({ units: 1, monthly_quota: null, spend_cap: 1, remaining: 0 });

  const removed = await api("/v1/account/spend-cap", {
    method: "DELETE",
    headers: { Authorization: `Bearer ${apiKey}` },
  });
  expect(removed.status).toBe(200);
  expect((await validate(apiKey)).status).toBe(200);
  expect(await usageOf(apiKey)).toMatchObject({ units: 2, spend_cap: null, limit: null, remaining: null });

  expect((await api("/__scheduled?cron=*+*+*+*+*")).status).toBe(200);
  expect(stack.stripe.unitsByCustomer()[customer]).toBe(2);
});
