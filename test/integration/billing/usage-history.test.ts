/**
 * GET /v1/usage through the app against real Postgres and Redis: for an account with a Stripe
 * customer, billed units per UTC day and hour from the ledger (compensations netted, other
 * accounts' rows never shown); for one without (free), the counters admission keeps (refusals
 * taken back); and the bounds of a request.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redisKeys } from "../../../src/metering/scripts/keys";
import { type AccessHarness, startAccessHarness } from "../harness/access";

let harness: AccessHarness;

beforeAll(async () => {
  harness = await startAccessHarness({
    env: { RATE_LIMIT_TIERS: '{"free":{"limit":100,"windowSeconds":10}}' },
  });
});

afterAll(async () => {
  await harness?.stop();
});

/** One usage bucket (migrations/0017) of one record: an admission, or a compensation (negative units). */
async function ledger(subject: string, id: string, units: number, occurredAt: string) {
  await harness.sql.query(
    `insert into usage_buckets (id, stripe_customer_id, subject, starts_at, period, admitted, compensated, records, first_at, last_at)
     values ($1, 'cus_test', $2, date_trunc('hour', $5::timestamptz at time zone 'UTC') at time zone 'UTC',
       to_char($5::timestamptz at time zone 'UTC', 'YYYY-MM'), $3, $4, 1, $5, $5)`,
    [
      `smb_test_${id.replace(/[^a-z0-9]/g, "")}_${units > 0 ? "a" : "c"}_${crypto.randomUUID().slice(0, 8)}`,
      subject,
      Math.max(units, 0),
      Math.max(-units, 0),
      occurredAt,
    ],
  );
}

describe("GET /v1/usage", () => {
  it("answers billed units per UTC day and per hour, compensations netted, only the caller's", async () => {
    const account = await harness.account();
    const other = await harness.account();
    // A paying account: billing has linked a Stripe customer (the edge state's customer override).
    await harness.redisCommand("SET", redisKeys.customerOverride(account.id), "cus_test", "EX", "600");
    await ledger(account.id, "usage-0001", 3, "2026-11-02T10:15:00Z");
    await ledger(account.id, "usage-0002", 2, "2026-11-02T11:59:00Z");
    await ledger(account.id, "usage-0002", -2, "2026-11-02T11:59:01Z");
    await ledger(account.id, "usage-0003", 5, "2026-11-03T00:00:00Z");
    await ledger(other.id, "usage-0004", 100, "2026-11-02T10:00:00Z");
    const get = (query: string) =>
      harness.request(`/v1/usage?${query}`, { headers: { Authorization: `Bearer ${account.apiKey}` } });

    const days = await get("from=2026-11-01&to=2026-12-01");
    expect(days.status, await days.clone().text()).toBe(200);
    expect(await days.json()).toEqual({
      from: "2026-11-01T00:00:00.000Z",
      to: "2026-12-01T00:00:00.000Z",
      granularity: "day",
      source: "ledger",
      buckets: [
        { start: "2026-11-02T00:00:00Z", units: 3 },
        { start: "2026-11-03T00:00:00Z", units: 5 },
      ],
    });
    const hours = await get("from=2026-11-02T00:00:00Z&to=2026-11-03T00:00:00Z&granularity=hour");
    expect(((await hours.json()) as { buckets: unknown[] }).buckets).toEqual([
      { start: "2026-11-02T10:00:00Z", units: 3 },
      { start: "2026-11-02T11:00:00Z", units: 0 },
    ]);
  });

  it("answers a free account's units from the admission counters: 2xx calls only, per day and hour", async () => {
    const account = await harness.account();
    const validate = (body: unknown) =>
      harness.request("/v1/validate", {
        method: "POST",
        headers: { Authorization: `Bearer ${account.apiKey}`, "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
    expect((await validate({ schema: { type: "integer" }, data: 1 })).status).toBe(200);
    expect((await validate({ schema: { type: "integer" }, data: "x" })).status).toBe(200);
    // Enriched: 2 units.
    expect((await validate({ schema: { type: "integer" }, data: 1, enrich: true })).status).toBe(200);
    // Refused after admission (the schema cannot compile): compensated, so not counted.
    expect((await validate({ schema: { $ref: "#/nowhere" }, data: 1 })).status).toBe(422);
    await harness.settle();
    const get = (query: string) =>
      harness.request(`/v1/usage?${query}`, { headers: { Authorization: `Bearer ${account.apiKey}` } });
    const now = new Date();
    const today = now.toISOString().slice(0, 10);
    const days = await get("");
    expect(days.status, await days.clone().text()).toBe(200);
    expect(await days.json()).toMatchObject({
      granularity: "day",
      source: "counters",
      buckets: [{ start: `${today}T00:00:00Z`, units: 4 }],
    });
    const hours = await get(`from=${today}&granularity=hour`);
    expect(await hours.json()).toMatchObject({
      source: "counters",
      buckets: [{ start: `${now.toISOString().slice(0, 13)}:00:00Z`, units: 4 }],
    });
    // A range that ends before today has none of it.
    const monthAgo = new Date(now.getTime() - 30 * 86_400_000).toISOString().slice(0, 10);
    const before = await get(`from=${monthAgo}&to=${today}`);
    expect(before.status).toBe(200);
    expect(((await before.json()) as { buckets: unknown[] }).buckets).toEqual([]);
  });

  it("refuses a reversed range, a too-wide range and a malformed date with 400", async () => {
    const account = await harness.account();
    const get = (query: string) =>
      harness.request(`/v1/usage?${query}`, { headers: { Authorization: `Bearer ${account.apiKey}` } });
    const reversed = await get("from=2026-11-02&to=2026-11-01");
    expect(reversed.status).toBe(400);
    expect(((await reversed.json()) as { detail: string }).detail).toContain("before");
    const wide = await get("from=2026-11-01&to=2026-11-20&granularity=hour");
    expect(wide.status).toBe(400);
    expect(((await wide.json()) as { detail: string }).detail).toContain("granularity=day");
    expect((await get("from=2026-13-01")).status).toBe(400);
    expect((await get("granularity=minute")).status).toBe(400);
    expect((await harness.request("/v1/usage")).status).toBe(401);
  });
});
