/**
 * The money path end to end in real workerd: a paying account validates through the built Worker,
 * the cron trigger (`/__scheduled`, as wrangler fires it) runs the flusher, and Stripe (the fake)
 * receives exactly the units served, with the reconciliation balanced.
 */
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type LocalStack, startLocalStack } from "../support/local-stack";
import { E2E_ADMISSION_TIMEOUT_MS, startWranglerDev, type WorkerProcess } from "../support/wrangler-dev";

let stack: LocalStack;
let worker: WorkerProcess;

beforeAll(async () => {
  stack = await startLocalStack({ redis: "own" });
  worker = await startWranglerDev({
    vars: { ...stack.vars, FLUSH_SETTLE_SECONDS: "0", ADMISSION_TIMEOUT_MS: E2E_ADMISSION_TIMEOUT_MS },
    testScheduled: true,
  });
});

afterAll(async () => {
  await worker?.stop();
  await stack?.stop();
});

const api = (path: string, init?: RequestInit) => fetch(`${worker.url}${path}`, init);
const json = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method: "POST",
  headers: { "Content-Type": "application/json", ...headers },
  body: JSON.stringify(body),
});

it("bills exactly the validations served, through the cron-triggered flusher", async () => {
  const customer = stack.stripe.createCustomer({ email: "e2e-billing@example.com" });
  const signup = await api("/v1/signup", json({ email: "e2e-billing@example.com" }));
  expect(signup.status, await signup.clone().text()).toBe(201);
  const { api_key: apiKey, account_id: accountId } = (await signup.json()) as {
    api_key: string;
    account_id: string;
  };
  // What a completed checkout does: the account becomes a paying customer.
  const sql = new pg.Client({ connectionString: stack.databaseUrl });
  await sql.connect();
  try {
    await sql.query("update public.accounts set tier = 'pro', stripe_customer_id = $1 where id = $2", [
      customer.id,
      accountId,
    ]);
  } finally {
    await sql.end();
  }
  const minted = await api("/v1/token", { method: "POST", headers: { Authorization: `Bearer ${apiKey}` } });
  const { token } = (await minted.json()) as { token: string };
  const auth = { Authorization: `Bearer ${token}` };

  const schema = { type: "object", properties: { n: { type: "integer", default: 1 } } };
  for (let i = 0; i < 5; i++) {
    const response = await api("/v1/validate", json({ schema, data: { n: i } }, auth));
    expect(response.status).toBe(200);
  }
  for (let i = 0; i < 2; i++) {
    const response = await api("/v1/validate", json({ schema, data: {}, enrich: true }, auth));
    expect(response.status).toBe(200);
  }
  const served = 5 * 1 + 2 * 2;

  const meterEventPosts = () =>
    stack.stripe
      .requests()
      .filter((request) => request.method === "POST" && request.path === "/v1/billing/meter_events");
  const fired = await api("/__scheduled?cron=*+*+*+*+*");
  expect(fired.status).toBe(200);
  expect(stack.stripe.unitsByCustomer()).toEqual({ [customer.id]: served });
  // One batch, sent as one request that Stripe accepted.
  const posted = meterEventPosts();
  expect(posted.map((request) => request.status)).toEqual([200]);
  expect(posted[0]?.body).toMatchObject({
    identifier: stack.stripe.meterEvents()[0]?.identifier,
    payload: { stripe_customer_id: customer.id, value: String(served) },
  });

  const admin = { Authorization: `Bearer ${stack.secrets.adminToken}` };
  // Whole UTC days, so that the answered-units check compares today: the units the Worker counted
  // after each 2xx (in waitUntil, in workerd) against the ledger.
  const today = new Date().toISOString().slice(0, 10);
  const tomorrow = new Date(Date.parse(today) + 86_400_000).toISOString().slice(0, 10);
  const reconciliation = await api(`/admin/reconciliation?from=${today}&to=${tomorrow}`, { headers: admin });
  expect(await reconciliation.json()).toMatchObject({
    balanced: true,
    rows: [
      { stripe_customer_id: customer.id, admitted: served, reported: served, pending: 0, dead_lettered: 0 },
    ],
    answered_check: {
      status: "balanced",
      rows: [{ stripe_customer_id: customer.id, answered: served, billed: served, unsent: 0 }],
    },
  });

  // A second cron run has nothing to send.
  expect((await api("/__scheduled?cron=*+*+*+*+*")).status).toBe(200);
  expect(stack.stripe.meterEvents()).toHaveLength(1);
  // Not even a resend that Stripe would have refused as a duplicate: no new request at all.
  expect(meterEventPosts()).toEqual(posted);
  expect(worker.output()).toMatch(/usage flush finished/);
});
