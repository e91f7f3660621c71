/**
 * The billing invariant for calls made with the API key itself when the admission call times out
 * but the script still runs in Redis (as uncertain-admission.test.ts shows for tokens): Postgres
 * names the caller, the refusal carries the usage id the script may have admitted, and
 * `settleRefusal` compensates it, so the units billed per request id equal the units answered 2xx.
 */
import type { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AppBindings } from "../../../src/env";
import { admitUsage } from "../../../src/middleware/admission";
import { requireCredential } from "../../../src/middleware/auth";
import { type AccessHarness, startAccessHarness, usageStream } from "../harness/access";
import { billedUnitsByRequest, blockRedis } from "../harness/billed-units";

let h: AccessHarness;

beforeAll(async () => {
  h = await startAccessHarness({
    env: {
      ADMISSION_TIMEOUT_MS: "50",
      RATE_LIMIT_TIERS: JSON.stringify({
        free: { limit: 5, windowSeconds: 10 },
        pro: { limit: 3, windowSeconds: 10 },
      }),
    },
    routes: (app: Hono<AppBindings>) => {
      app.get("/test/billable", requireCredential(), admitUsage({ units: 1 }), (c) => c.json({ ok: true }));
    },
  });
});
afterAll(async () => {
  await h?.stop();
});

const call = async (apiKey: string, requestId: string) => {
  const response = await h.request("/test/billable", {
    headers: { Authorization: `Bearer ${apiKey}`, "X-Request-Id": requestId },
  });
  await response.arrayBuffer();
  return { requestId, status: response.status };
};

describe("a call whose admission timed out but ran", () => {
  it("bills exactly the calls answered 2xx: the fallback limiter's 429s are compensated", async () => {
    const pro = await h.account("pro");
    const tag = pro.id.slice(0, 8);
    // An outage first: three key calls served fail-open (caller named by Postgres) fill this
    // isolate's fallback window, while Redis's own window stays empty.
    await h.stack.redis.stop();
    const served: Array<{ requestId: string; status: number }> = [];
    try {
      for (let i = 0; i < 3; i++) served.push(await call(pro.apiKey, `k-served-${i}-${tag}`));
    } finally {
      await h.stack.redis.start();
    }
    expect(served.map((c) => c.status)).toEqual([200, 200, 200]);
    // The restarted Redis lost the entry and the script cache: another account's call loads the
    // script, and this key's entry is written again as sign-up wrote it.
    const other = await h.account("pro");
    expect((await call(other.apiKey, `k-warm-${tag}`)).status).toBe(200);
    expect((await call(pro.apiKey, `k-refill-${tag}`)).status).toBe(200);
    // Redis's window now holds one call; the fallback's is full.

    const blocked = blockRedis(h, 600);
    await new Promise((done) => setTimeout(done, 50));
    const refused = await Promise.all(
      Array.from({ length: 6 }, (_, i) => call(pro.apiKey, `k-refused-${i}-${tag}`)),
    );
    await blocked;
    await h.settle();
    expect(refused.map((c) => c.status)).toEqual(Array(6).fill(429));
    // Their scripts ran once Redis was free: two found room in Redis's window (limit 3).
    await expect
      .poll(
        async () =>
          (await usageStream(h)).filter(
            (e) => e.subject === pro.id && e.kind === "admit" && e.request_id?.startsWith("k-refused"),
          ).length,
      )
      .toBe(2);

    const billed = await billedUnitsByRequest(h, pro.id, { sameCustomer: true });
    for (const { requestId, status } of [...served, ...refused]) {
      expect(billed.get(requestId) ?? 0, `${requestId} answered ${status}`).toBe(status === 200 ? 1 : 0);
    }
  });

  it("a fail-closed tier's 503 after a timed-out key call is compensated too", async () => {
    const free = await h.account("free");
    const blocked = blockRedis(h, 400);
    await new Promise((done) => setTimeout(done, 50));
    const requestId = `k-uncertain-free-${free.id.slice(0, 8)}`;
    expect((await call(free.apiKey, requestId)).status).toBe(503);
    await blocked;
    await h.settle();
    await expect
      .poll(
        async () => (await usageStream(h)).filter((e) => e.subject === free.id && e.kind === "admit").length,
      )
      .toBe(1);
    expect((await billedUnitsByRequest(h, free.id, { sameCustomer: true })).get(requestId)).toBe(0);
  });

  it("a token minted before the first checkout: the compensation names the customer the script billed", async () => {
    const free = await h.account("free");
    const customer = `cus_u${free.id.slice(0, 8)}`;
    await h.sql.query("update public.accounts set stripe_customer_id = $1 where id = $2", [
      customer,
      free.id,
    ]);
    const { rows } = await h.sql.query("select public.billing_edge_state($1) as edge", [free.id]);
    const edge = rows[0].edge as { tier: string; version: number };
    await h.redis.applyEdgeState(
      { subject: free.id, tier: edge.tier, customer, deny: false, version: edge.version },
      60,
    );

    const blocked = blockRedis(h, 400);
    await new Promise((done) => setTimeout(done, 50));
    const requestId = `t-uncertain-cus-${free.id.slice(0, 8)}`;
    expect((await call(free.token, requestId)).status).toBe(503);
    await blocked;
    await h.settle();
    await expect
      .poll(
        async () => (await usageStream(h)).filter((e) => e.subject === free.id && e.kind === "admit").length,
      )
      .toBe(1);
    const records = (await usageStream(h)).filter((e) => e.subject === free.id);
    expect(records.map((e) => [e.kind, e.stripe_customer_id])).toEqual([
      ["admit", customer],
      ["compensate", customer],
    ]);
    expect((await billedUnitsByRequest(h, free.id, { sameCustomer: true })).get(requestId)).toBe(0);
  });
});
