/**
 * Billing a customer can trust, end to end in real workerd (`wrangler dev`, eval forbidden): a token
 * minted before checkout (no Stripe customer in it) keeps working after the upgrade, and everything
 * it is answered 2xx reaches Stripe under the new customer, through the cron-triggered flusher;
 * an enriched invalid document is billed 1 unit, an Idempotency-Key retry is billed once; the
 * operator's `npm run reconcile` balances.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type Stripe from "stripe";
import { afterAll, beforeAll, expect, it } from "vitest";
import { setupStripe } from "../../scripts/stripe-setup";
import { createStripeClient } from "../../src/adapters/stripe/sdk";
import { type LocalStack, startLocalStack } from "../support/local-stack";
import { E2E_ADMISSION_TIMEOUT_MS, startWranglerDev, type WorkerProcess } from "../support/wrangler-dev";

let stack: LocalStack;
let worker: WorkerProcess;
let stripe: Stripe;

beforeAll(async () => {
  stack = await startLocalStack({ redis: "own" });
  worker = await startWranglerDev({
    vars: { ...stack.vars, FLUSH_SETTLE_SECONDS: "0", ADMISSION_TIMEOUT_MS: E2E_ADMISSION_TIMEOUT_MS },
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
});

afterAll(async () => {
  await worker?.stop();
  await stack?.stop();
});

const api = (path: string, init?: RequestInit) => fetch(`${worker.url}${path}`, init);
const post = (path: string, credential: string, body: unknown, headers: Record<string, string> = {}) =>
  api(path, {
    method: "POST",
    headers: { Authorization: `Bearer ${credential}`, "Content-Type": "application/json", ...headers },
    body: JSON.stringify(body),
  });

it("upgrade, then the pre-checkout token's usage is billed to the new customer once; reconcile balances", async () => {
  const signup = await api("/v1/signup", {
    method: "POST",
    headers: { "Content-Type": "application/json", "CF-Connecting-IP": "10.11.0.1" },
    body: JSON.stringify({ email: `e2e-trust-${Date.now()}@example.com` }),
  });
  expect(signup.status, await signup.clone().text()).toBe(201);
  const { api_key: apiKey } = (await signup.json()) as { api_key: string };
  const minted = await api("/v1/token", { method: "POST", headers: { Authorization: `Bearer ${apiKey}` } });
  const { token } = (await minted.json()) as { token: string };
  const claims = JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString()) as { cus: unknown };
  expect(claims.cus).toBeNull();

  const checkout = await post("/v1/billing/checkout", token, { tier: "pro" });
  expect(checkout.status, await checkout.clone().text()).toBe(200);
  const { session_id: sessionId } = (await checkout.json()) as { session_id: string };
  stack.stripe.completeCheckout(sessionId);
  await stack.stripe.waitForWebhooks();
  const me = await api("/v1/account", { headers: { Authorization: `Bearer ${token}` } });
  const account = (await me.json()) as { tier: string; stripe_customer_id?: string };
  expect(account.tier).toBe("pro");
  const customer = stack.stripe.events().find((e) => e.type === "checkout.session.completed")?.data
    .object as {
    customer: string;
  };
  expect(customer.customer).toMatch(/^cus_/);

  const schema = { type: "object", required: ["id"], properties: { tag: { type: "string", default: "x" } } };
  // With the old token (cus: null in it) and with the key: plain, enriched valid and invalid, a retry.
  const answers: Array<{ units: number }> = [];
  for (const credential of [token, apiKey]) {
    for (const body of [
      { schema, data: { id: 1 } },
      { schema, data: { id: 2 }, enrich: true },
      { schema, data: {}, enrich: true },
    ]) {
      const response = await post("/v1/validate", credential, body);
      expect(response.status).toBe(200);
      answers.push((await response.json()) as { units: number });
    }
  }
  expect(answers.map((a) => a.units)).toEqual([1, 2, 1, 1, 2, 1]);
  const key = { "Idempotency-Key": crypto.randomUUID() };
  const batch = { schema, documents: [{ id: 1 }, {}, { id: 3 }] };
  const first = await post("/v1/validate/batch", token, batch, key);
  const firstText = await first.text();
  expect(JSON.parse(firstText)).toMatchObject({ units: 3 });
  // The response is kept after it is sent (waitUntil): retry until it is a replay.
  let retry: Response | undefined;
  for (let attempt = 0; attempt < 20; attempt++) {
    retry = await post("/v1/validate/batch", token, batch, key);
    if (retry.status === 200) break;
    expect(retry.status).toBe(409);
    await new Promise((done) => setTimeout(done, 100));
  }
  expect(retry?.headers.get("Idempotent-Replayed")).toBe("true");
  expect(await retry?.text()).toBe(firstText);
  const served = 1 + 2 + 1 + (1 + 2 + 1) + 3;

  expect((await api("/__scheduled?cron=*+*+*+*+*")).status).toBe(200);
  expect(stack.stripe.unitsByCustomer()).toEqual({ [customer.customer]: served });
  expect(worker.output()).not.toMatch(/"free_skipped":[1-9]/);

  const { stdout } = await promisify(execFile)(
    "node_modules/.bin/tsx",
    ["scripts/reconcile.ts", "--json", "--customer", customer.customer],
    {
      env: {
        ...process.env,
        DATABASE_URL: stack.databaseUrl,
        UPSTASH_REDIS_REST_URL: stack.vars.UPSTASH_REDIS_REST_URL,
        UPSTASH_REDIS_REST_TOKEN: stack.vars.UPSTASH_REDIS_REST_TOKEN,
      },
    },
  );
  const report = JSON.parse(stdout) as { balanced: boolean; rows: Array<Record<string, unknown>> };
  expect(report.balanced).toBe(true);
  expect(report.rows).toEqual([
    expect.objectContaining({
      stripe_customer_id: customer.customer,
      reported: served,
      pending: 0,
      dead_lettered: 0,
    }),
  ]);
  expect(Number(report.rows[0]?.admitted) - Number(report.rows[0]?.compensated)).toBe(served);
});
