/**
 * The operator surface of billing through the app factory: POST /admin/flush and
 * GET /admin/reconciliation behind ADMIN_TOKEN, and the breaker's state on /health/ready.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newApp } from "../../../src/app";
import type { Env } from "../../../src/env";
import { type BillingHarness, startBillingHarness } from "../harness/billing";

let h: BillingHarness;
let env: Env;
const app = newApp();

beforeAll(async () => {
  h = await startBillingHarness();
  env = { ...h.stack.vars, FLUSH_SETTLE_SECONDS: "0", STRIPE_BREAKER_FAILURE_THRESHOLD: "2" };
});
afterAll(async () => {
  await h?.stop();
});

const admin = () => ({ Authorization: `Bearer ${h.stack.secrets.adminToken}` });
const request = (path: string, init?: RequestInit) => app.request(`http://api.test${path}`, init, env);

describe("operator endpoints", () => {
  it("need the admin token", async () => {
    expect((await request("/admin/flush", { method: "POST" })).status).toBe(401);
    expect((await request("/admin/reconciliation?from=2026-01-01&to=2027-01-01")).status).toBe(401);
  });

  it("flush on demand and reconcile per customer and period", async () => {
    const [a, b] = [h.customer(), h.customer()];
    const records = await h.admit(a, 5, 2);
    await h.admit(b, 3);
    await h.compensate(records[0]!);
    const flushed = await request("/admin/flush", { method: "POST", headers: admin() });
    expect(flushed.status).toBe(200);
    expect(await flushed.json()).toMatchObject({ sent: 2, units_sent: 11, stopped: "drained" });

    const from = new Date(Date.now() - 86_400_000).toISOString();
    const to = new Date(Date.now() + 86_400_000).toISOString();
    const response = await request(`/admin/reconciliation?from=${from}&to=${to}&customer=${a}`, {
      headers: admin(),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      balanced: true,
      rows: [
        {
          stripe_customer_id: a,
          period: new Date().toISOString().slice(0, 7),
          admitted: 10,
          compensated: 2,
          reported: 8,
          pending: 0,
          dead_lettered: 0,
          balanced: true,
        },
      ],
      not_yet_in_ledger: { stream_entries: 0, pending_replay_records: 0 },
    });
    expect(h.stack.stripe.unitsByCustomer()).toEqual({ [a]: 8, [b]: 3 });
  });

  it("refuses a malformed period with 400", async () => {
    const response = await request("/admin/reconciliation?from=yesterday&to=2027-01-01", {
      headers: admin(),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: "BAD_REQUEST" });
  });
});

describe("readiness", () => {
  it("shows the Stripe breaker's state without failing readiness when it is open", async () => {
    const ready = await request("/health/ready");
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: "ready", stripe_breaker: { state: "closed" } });

    const a = h.customer();
    await h.admit(a, 1);
    await h.admit(h.customer(), 1);
    h.stack.stripe.failNext(2, { status: 503 }, "/v1/billing/meter_events");
    const failed = await request("/admin/flush", { method: "POST", headers: admin() });
    expect(await failed.json()).toMatchObject({ retried: 2, breaker: "open" });

    const open = await request("/health/ready");
    expect(open.status).toBe(200);
    expect(await open.json()).toMatchObject({ stripe_breaker: { state: "open", consecutive_failures: 2 } });
  });
});
