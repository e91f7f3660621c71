/**
 * GET /admin/metrics through the app factory against real Redis and Postgres: each figure moves as
 * the requests, usage records, dead-lettered batches and failed-payment webhooks do.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AccessHarness, startAccessHarness } from "../harness/access";
import {
  invoiceEvent,
  nowSeconds,
  payingCustomer,
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

interface Metrics {
  requests: {
    total: number;
    by_status: Record<string, number>;
    client_errors: number;
    server_errors: number;
  };
  admission: { live: number };
  stripe_breaker: { state: string } | null;
  usage_flush: { backlog_entries: number; lag_seconds: number | null } | null;
  dead_lettered_batches: { count: number; at_least: boolean } | null;
  payment_failures: { last_hour: number; last_24_hours: number; complete: boolean } | null;
}

async function metrics(): Promise<Metrics> {
  const response = await h.request("/admin/metrics", {
    headers: { Authorization: `Bearer ${h.stack.secrets.adminToken}` },
  });
  expect(response.status, await response.clone().text()).toBe(200);
  expect(response.headers.get("Cache-Control")).toBe("no-store");
  return (await response.json()) as Metrics;
}

describe("GET /admin/metrics", () => {
  it("needs the admin token", async () => {
    expect((await h.request("/admin/metrics")).status).toBe(401);
  });

  it("counts answers by status as requests come", async () => {
    const before = await metrics();
    for (let i = 0; i < 3; i++) expect((await h.request("/v1/account")).status).toBe(401);
    expect((await h.request("/nope")).status).toBe(404);
    const after = await metrics();
    // The first metrics call itself was counted (200) once it answered.
    expect(after.requests.by_status["401"]).toBe((before.requests.by_status["401"] ?? 0) + 3);
    expect(after.requests.by_status["404"]).toBe((before.requests.by_status["404"] ?? 0) + 1);
    expect(after.requests.client_errors).toBe(before.requests.client_errors + 4);
    expect(after.requests.total).toBe(before.requests.total + 5);
    expect(after.stripe_breaker).toMatchObject({ state: "closed" });
  });

  it("shows the usage stream's backlog and lag after billed calls", async () => {
    const before = await metrics();
    const account = await h.account("pro");
    const validate = await h.request("/v1/validate", {
      method: "POST",
      headers: { Authorization: `Bearer ${account.token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ schema: { type: "integer" }, data: 3 }),
    });
    expect(validate.status, await validate.clone().text()).toBe(200);
    await h.settle();
    const after = await metrics();
    expect(after.admission.live).toBe(before.admission.live + 1);
    expect(after.usage_flush?.backlog_entries).toBe((before.usage_flush?.backlog_entries ?? 0) + 1);
    expect(after.usage_flush?.lag_seconds).toBeGreaterThanOrEqual(0);
    expect(after.usage_flush?.lag_seconds).toBeLessThan(120);
  });

  it("counts dead-lettered batches", async () => {
    const before = await metrics();
    await h.sql.query(
      `insert into public.usage_batches (id, stripe_customer_id, period, units, record_count, event_timestamp, status, dead_reason, dead_at)
       values ($1, 'cus_metrics', to_char(now(), 'YYYY-MM'), 3, 1, now(), 'dead', 'test', now())`,
      [`smu_${"ab".repeat(16)}`],
    );
    const after = await metrics();
    expect(after.dead_lettered_batches).toEqual({
      count: (before.dead_lettered_batches?.count ?? 0) + 1,
      at_least: false,
    });
  });

  it("counts invoice.payment_failed webhooks, a duplicate delivery once", async () => {
    const before = await metrics();
    const t0 = nowSeconds() - 600;
    const paying = await payingCustomer(h, client, t0);
    const failed = invoiceEvent(client, "invoice.payment_failed", paying, nowSeconds() - 60);
    await client.deliverOk(failed);
    await client.deliverOk(failed); // Stripe retries: same event id
    const old = invoiceEvent(client, "invoice.payment_failed", paying, nowSeconds() - 3 * 3600);
    await client.deliverOk(old);
    const after = await metrics();
    expect(after.payment_failures).toEqual({
      last_hour: (before.payment_failures?.last_hour ?? 0) + 1,
      last_24_hours: (before.payment_failures?.last_24_hours ?? 0) + 2,
      complete: true,
    });
  });

  it("answers with the sources that did answer when Redis is down", async () => {
    await h.stack.redis.stop();
    try {
      const during = await metrics();
      expect(during.usage_flush).toBeNull();
      expect(during.stripe_breaker).toBeNull();
      expect(during.dead_lettered_batches).not.toBeNull();
    } finally {
      await h.stack.redis.start();
    }
  });
});
