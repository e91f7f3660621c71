/**
 * Webhook delivery as Stripe does it (twice, concurrently, late, out of order, during outages)
 * against real Postgres and Redis: every delivery order ends in the state in-order delivery gives,
 * each event is recorded once, and failures answer non-2xx until a retry succeeds.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPostgrestBridge } from "../../support/postgrest-bridge";
import type { StripeEvent } from "../../support/stripe-fake";
import { type AccessHarness, problemOf, startAccessHarness } from "../harness/access";
import {
  billingSnapshot,
  lifecycleEvents,
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

async function deliverAll(events: StripeEvent[]) {
  for (const event of events) {
    const response = await client.deliver(event);
    expect(response.status, await response.clone().text()).toBe(200);
  }
}

/** A fresh account, customer and subscription, and the lifecycle's events for them. */
async function scenario(upTo: number, t0 = nowSeconds() - 1000) {
  const { id: accountId } = await h.account();
  const ids = { accountId, customer: uniqueId("cus_"), subscription: uniqueId("sub_") };
  return { accountId, events: lifecycleEvents(client, ids, t0, upTo) };
}

async function recordedCount(eventIds: string[]) {
  const { rows } = await h.sql.query(
    "select count(*)::int as n from public.billing_events where id = any($1)",
    [eventIds],
  );
  return rows[0].n as number;
}

/** Fisher-Yates with a fixed seed, so a failure can be replayed. */
function shuffled<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let state = seed;
  for (let i = out.length - 1; i > 0; i--) {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

describe.each([
  { name: "through cancellation", upTo: 8, expected: { tier: "free", status: "active", edge_denied: false } },
  { name: "ending past due", upTo: 5, expected: { tier: "pro", status: "past_due", edge_denied: false } },
])("the lifecycle $name", ({ upTo, expected }) => {
  const orders: Array<[string, (events: StripeEvent[]) => Promise<void>]> = [
    ["in order", (events) => deliverAll(events)],
    ["in reverse order", (events) => deliverAll([...events].reverse())],
    ["shuffled", (events) => deliverAll(shuffled(events, 7))],
    ["each twice in a row", (events) => deliverAll(events.flatMap((event) => [event, event]))],
    [
      "each twice concurrently",
      async (events) => {
        for (const event of events) {
          const [a, b] = await Promise.all([client.deliver(event), client.deliver(event)]);
          expect([a.status, b.status]).toEqual([200, 200]);
          const receipts = [
            (await a.json()) as { duplicate: boolean },
            (await b.json()) as { duplicate: boolean },
          ];
          expect(receipts.filter((r) => r.duplicate)).toHaveLength(1);
        }
      },
    ],
    [
      "all at once, twice each",
      async (events) => {
        const responses = await Promise.all([...events, ...events].map((event) => client.deliver(event)));
        expect(responses.map((r) => r.status)).toEqual(responses.map(() => 200));
      },
    ],
  ];

  let reference: Awaited<ReturnType<typeof billingSnapshot>>;

  it.each(orders)("%s ends in the same state", async (order, deliver) => {
    const t0 = nowSeconds() - 1000;
    const { accountId, events } = await scenario(upTo, t0);
    await deliver(events);
    const snapshot = await billingSnapshot(h, accountId);
    expect(snapshot).toMatchObject({ ...expected, edge_tier: expected.tier });
    expect(await recordedCount(events.map((e) => e.id))).toBe(events.length);
    // Customer ids differ per scenario; compare everything else with in-order delivery.
    const comparable = {
      ...snapshot,
      stripe_customer_id: snapshot.stripe_customer_id ? "linked" : null,
      // Grace is measured from the failed invoice's own time, so it is t0-relative.
      grace_until: snapshot.grace_until ? Date.parse(snapshot.grace_until) / 1000 - t0 : null,
    };
    if (order === "in order") reference = comparable as typeof snapshot;
    else expect(comparable).toEqual(reference);
  });
});

describe("exactly once", () => {
  it("a duplicate is a no-op that answers 200 and re-applies the edge state", async () => {
    const { accountId, events } = await scenario(3);
    await deliverAll(events);
    await h.redisCommand("DEL", `sm:tier:${accountId}`, `sm:edge-version:${accountId}`);
    const again = await client.deliver(events[2] as StripeEvent);
    expect(again.status).toBe(200);
    // The outcome is the first delivery's: the checkout ties with subscription.created and loses.
    expect(await again.json()).toMatchObject({ duplicate: true, outcome: "stale" });
    expect((await billingSnapshot(h, accountId)).edge_tier).toBe("pro");
  });

  it("ten concurrent deliveries of one event apply it once", async () => {
    const { accountId, events } = await scenario(1);
    const responses = await Promise.all(
      Array.from({ length: 10 }, () => client.deliver(events[0] as StripeEvent)),
    );
    const receipts = (await Promise.all(responses.map((r) => r.json()))) as Array<{ duplicate: boolean }>;
    expect(responses.every((r) => r.status === 200)).toBe(true);
    expect(receipts.filter((r) => !r.duplicate)).toHaveLength(1);
    expect(await recordedCount([events[0]?.id as string])).toBe(1);
    expect(await billingSnapshot(h, accountId)).toMatchObject({ tier: "pro", edge_tier: "pro" });
  });

  it("a late event older than the state is recorded as stale and changes nothing", async () => {
    const { accountId, events } = await scenario(8);
    await deliverAll(events.filter((e) => e.type !== "customer.subscription.updated"));
    const before = await billingSnapshot(h, accountId);
    const late = events.find((e) => e.type === "customer.subscription.updated") as StripeEvent;
    const response = await client.deliver(late);
    expect(await response.json()).toMatchObject({ duplicate: false, outcome: "stale" });
    expect(await billingSnapshot(h, accountId)).toEqual(before);
  });
});

describe("outages", () => {
  it("Postgres unreachable: 503 with Retry-After and nothing recorded; Stripe's retry then applies it", async () => {
    const { accountId, events } = await scenario(3);
    // The Worker's own PostgREST bridge for this test, stopped for the first attempt.
    const bridge = await startPostgrestBridge({
      databaseUrl: h.stack.databaseUrl,
      jwtSecret: h.stack.secrets.postgrestJwtSecret,
    });
    const port = new URL(bridge.url).port;
    await bridge.close();
    const env = { ...h.env, SUPABASE_URL: bridge.url };
    const checkout = events[2] as StripeEvent;

    const down = await client.deliver(checkout, { env });
    // Unreachable is a 503 (retry shortly), as for every route that needs Postgres; Stripe retries any 5xx.
    expect(down.status).toBe(503);
    expect(down.headers.get("Retry-After")).toBe("5");
    const problem = await problemOf(down);
    expect(problem.code).toBe("DEPENDENCY_UNAVAILABLE");
    expect(JSON.stringify(problem)).not.toMatch(/rpc|apply_stripe_event|ECONNREFUSED/);
    expect(await recordedCount([checkout.id])).toBe(0);

    const restarted = await startPostgrestBridge({
      databaseUrl: h.stack.databaseUrl,
      jwtSecret: h.stack.secrets.postgrestJwtSecret,
      port: Number(port),
    });
    try {
      const retry = await client.deliver(checkout, { env });
      expect(retry.status).toBe(200);
      expect(await retry.json()).toMatchObject({ duplicate: false, outcome: "applied" });
    } finally {
      await restarted.close();
    }
    expect(await billingSnapshot(h, accountId)).toMatchObject({ tier: "pro", edge_tier: "pro" });
  });

  it("Redis unreachable after the commit: 503, and the redelivery (a duplicate) writes the edge", async () => {
    const { accountId, events } = await scenario(3);
    const env = { ...h.env, UPSTASH_REDIS_REST_URL: "http://127.0.0.1:9" };
    const checkout = events[2] as StripeEvent;
    const down = await client.deliver(checkout, { env });
    expect(down.status).toBe(503);
    expect((await problemOf(down)).code).toBe("DEPENDENCY_UNAVAILABLE");
    expect(await billingSnapshot(h, accountId)).toMatchObject({ tier: "pro", edge_tier: null });

    const retry = await client.deliver(checkout);
    expect(await retry.json()).toMatchObject({ duplicate: true });
    expect(await billingSnapshot(h, accountId)).toMatchObject({ tier: "pro", edge_tier: "pro" });
  });

  it("an older edge state never overwrites a newer one in Redis", async () => {
    const { id: accountId } = await h.account();
    expect(
      await h.redis.applyEdgeState({ subject: accountId, tier: "pro", deny: false, version: 5 }, 60),
    ).toBe(true);
    expect(
      await h.redis.applyEdgeState({ subject: accountId, tier: "free", deny: true, version: 4 }, 60),
    ).toBe(false);
    expect(await billingSnapshot(h, accountId)).toMatchObject({ edge_tier: "pro", edge_denied: false });
    for (const key of [`sm:tier:${accountId}`, `sm:edge-version:${accountId}`]) {
      const ttl = (await h.redisCommand("TTL", key)) as { value: number };
      expect(ttl.value).toBeGreaterThan(0);
    }
  });
});

describe("GET /admin/events", () => {
  const admin = (query = "") =>
    h.request(`/admin/events${query}`, {
      headers: { Authorization: `Bearer ${h.stack.secrets.adminToken}` },
    });

  it("lists recent events with their outcome, filtered by status", async () => {
    const ignored = client.event(
      "customer.created",
      { id: uniqueId("cus_"), object: "customer" },
      nowSeconds(),
    );
    expect((await client.deliver(ignored)).status).toBe(200);
    const response = await admin("?status=ignored&limit=5");
    expect(response.status).toBe(200);
    const { events } = (await response.json()) as { events: Array<Record<string, unknown>> };
    expect(events[0]).toMatchObject({ id: ignored.id, type: "customer.created", outcome: "ignored" });
    expect(events.every((e) => e.outcome === "ignored")).toBe(true);
    const all = (await (await admin()).json()) as { events: unknown[] };
    expect(all.events.length).toBeGreaterThan(1);
  });

  it("needs the admin token and a known status", async () => {
    expect((await h.request("/admin/events")).status).toBe(401);
    expect((await admin("?status=bogus")).status).toBe(400);
  });
});
