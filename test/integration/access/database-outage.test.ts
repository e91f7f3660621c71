/**
 * Postgres unreachable (Supabase's REST endpoint refusing connections): every route that needs it
 * answers 503 DEPENDENCY_UNAVAILABLE with Retry-After, as a Redis outage does, never a bare 500.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Env } from "../../../src/env";
import { type AccessHarness, problemOf, startAccessHarness } from "../harness/access";
import { checkoutSessionObject, nowSeconds, uniqueId, webhookClient } from "../harness/webhooks";

let h: AccessHarness;
let down: Env;

beforeAll(async () => {
  h = await startAccessHarness();
  // Nothing listens on port 9 of this machine (discard): connections are refused at once.
  down = { ...h.env, SUPABASE_URL: "http://127.0.0.1:9" };
});
afterAll(async () => {
  await h?.stop();
});

async function expectUnavailable(response: Response) {
  expect(response.status).toBe(503);
  expect(response.headers.get("Retry-After")).toBe("5");
  expect(await problemOf(response)).toMatchObject({
    code: "DEPENDENCY_UNAVAILABLE",
    detail: "The database is unreachable right now; retry shortly.",
  });
}

describe("Postgres unreachable", () => {
  it("sign-up, token exchange, account, checkout and operator routes answer 503 with Retry-After", async () => {
    const { apiKey, token } = await h.account("pro");
    const json = (body: unknown, headers: Record<string, string> = {}) => ({
      method: "POST",
      headers: { "Content-Type": "application/json", ...headers },
      body: JSON.stringify(body),
    });
    await expectUnavailable(
      await h.request(
        "/v1/signup",
        json({ email: `outage-${Date.now()}@example.com` }, { "CF-Connecting-IP": "192.0.2.90" }),
        down,
      ),
    );
    await expectUnavailable(
      await h.request("/v1/token", { method: "POST", headers: { Authorization: `Bearer ${apiKey}` } }, down),
    );
    await expectUnavailable(
      await h.request("/v1/account", { headers: { Authorization: `Bearer ${token}` } }, down),
    );
    await expectUnavailable(
      await h.request(
        "/v1/billing/checkout",
        json({ tier: "pro" }, { Authorization: `Bearer ${token}` }),
        down,
      ),
    );
    await expectUnavailable(
      await h.request("/admin/events", { headers: { Authorization: `Bearer ${h.env.ADMIN_TOKEN}` } }, down),
    );
  });

  it("a webhook is answered 503 so Stripe delivers it again, and nothing is recorded", async () => {
    const account = await h.account();
    const client = webhookClient(h);
    const event = client.event(
      "checkout.session.completed",
      checkoutSessionObject({
        customer: uniqueId("cus_"),
        subscription: uniqueId("sub_"),
        accountId: account.id,
      }),
      nowSeconds(),
    );
    await expectUnavailable(await client.deliver(event, { env: down }));
    const { rows } = await h.sql.query("select 1 from public.billing_events where id = $1", [event.id]);
    expect(rows).toHaveLength(0);
  });
});
