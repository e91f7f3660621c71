/**
 * Enrichment is billed only when it was performed: `enrich` on an invalid document costs 1 unit,
 * not 2. Admission admits 2 (before compute it cannot know), and the difference is compensated
 * through the settlement path; checked through the API against the real local stack, live, while
 * Redis is down, after an admission that timed out but ran, and on an idempotent replay.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AccessHarness, startAccessHarness, usageStream } from "../harness/access";
import { billedUnits, billedUnitsByRequest } from "../harness/billed-units";

const TIERS = JSON.stringify({
  free: { limit: 5, windowSeconds: 10 },
  pro: { limit: 1000, windowSeconds: 10 },
});
const schema = {
  type: "object",
  required: ["id"],
  properties: { currency: { type: "string", default: "EUR" } },
};

function post(h: AccessHarness, credential: string, path: string, body: unknown, headers = {}) {
  return h.request(path, {
    method: "POST",
    headers: { Authorization: `Bearer ${credential}`, "Content-Type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

describe("enrichment units", () => {
  let h: AccessHarness;
  beforeAll(async () => {
    h = await startAccessHarness({ env: { RATE_LIMIT_TIERS: TIERS } });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it("bills an enriched invalid document 1 unit, a valid one 2, and /v1/account counts what was billed", async () => {
    const account = await h.account("pro");
    const invalid = await post(h, account.apiKey, "/v1/validate", { schema, data: {}, enrich: true });
    expect(await invalid.json()).toMatchObject({ valid: false, units: 1 });
    const valid = await post(h, account.apiKey, "/v1/validate", { schema, data: { id: 1 }, enrich: true });
    expect(await valid.json()).toMatchObject({ valid: true, units: 2, data: { id: 1, currency: "EUR" } });
    await h.settle();
    expect(await billedUnits(h, account.id)).toBe(3);
    // The stream holds the admission of 2 and a compensation of 1 for the invalid one, nothing for the valid one.
    const records = (await usageStream(h)).filter((r) => r.subject === account.id);
    expect(records.map((r) => `${r.kind}:${r.units}`).sort()).toEqual([
      "admit:2",
      "admit:2",
      "compensate:-1",
    ]);
    const me = await h.request("/v1/account", { headers: { Authorization: `Bearer ${account.apiKey}` } });
    expect(((await me.json()) as { usage: { units: number } }).usage.units).toBe(3);
  });

  it("bills a batch by its valid and invalid documents: 2 + 2 + 1", async () => {
    const account = await h.account("pro");
    const response = await post(h, account.token, "/v1/validate/batch", {
      schema,
      documents: [{ id: 1 }, { id: 2 }, { nope: true }],
      enrich: { defaults: true },
    });
    expect(await response.json()).toMatchObject({ valid: false, units: 5 });
    await h.settle();
    expect(await billedUnits(h, account.id)).toBe(5);
    // Without enrichment nothing is compensated.
    await post(h, account.token, "/v1/validate/batch", { schema, documents: [{ id: 1 }, {}] });
    await h.settle();
    expect(await billedUnits(h, account.id)).toBe(7);
  });

  it("a replay of an enriched invalid call says 1 unit and bills nothing more", async () => {
    const account = await h.account("pro");
    const key = { "Idempotency-Key": crypto.randomUUID() };
    const first = await post(h, account.apiKey, "/v1/validate", { schema, data: {}, enrich: true }, key);
    expect(await first.json()).toMatchObject({ units: 1 });
    await h.settle();
    const retry = await post(h, account.apiKey, "/v1/validate", { schema, data: {}, enrich: true }, key);
    expect(retry.headers.get("Idempotent-Replayed")).toBe("true");
    expect(await retry.json()).toMatchObject({ units: 1 });
    await h.settle();
    expect(await billedUnits(h, account.id)).toBe(1);
  });

  it("while Redis is down (paid tier served fail-open), Postgres gets the admission and the difference", async () => {
    const account = await h.account("pro");
    expect((await post(h, account.apiKey, "/v1/validate", { schema, data: { id: 1 } })).status).toBe(200);
    await h.settle();
    await h.stack.redis.stop();
    try {
      const response = await post(
        h,
        account.apiKey,
        "/v1/validate",
        { schema, data: {}, enrich: true },
        { "X-Request-Id": "down-invalid" },
      );
      expect(await response.json()).toMatchObject({ valid: false, units: 1 });
      await h.settle();
    } finally {
      await h.stack.redis.start();
    }
    const { rows } = await h.sql.query(
      "select kind, units from public.pending_usage where request_id = $1 order by kind",
      ["down-invalid"],
    );
    expect(rows.map((row) => `${row.kind}:${row.units}`)).toEqual(["admit:2", "compensate:-1"]);
    expect((await billedUnitsByRequest(h, account.id)).get("down-invalid")).toBe(1);
  });
});

describe("enrichment units when admission timed out but its script ran", () => {
  let slow: AccessHarness;
  beforeAll(async () => {
    slow = await startAccessHarness({ env: { RATE_LIMIT_TIERS: TIERS, ADMISSION_TIMEOUT_MS: "50" } });
  });
  afterAll(async () => {
    await slow?.stop();
  });

  it("bills 1 whether the admission landed in the stream or in Postgres", async () => {
    const account = await slow.account("pro");
    expect((await post(slow, account.token, "/v1/validate", { schema, data: { id: 1 } })).status).toBe(200);
    const script = `local s = redis.call('TIME') local start = s[1] * 1000000 + s[2]
      while true do local t = redis.call('TIME') if t[1] * 1000000 + t[2] - start > 600000 then break end end
      return 1`;
    const blocked = slow.redisCommand("EVAL", script, "0");
    await new Promise((done) => setTimeout(done, 50));
    const response = await post(
      slow,
      account.token,
      "/v1/validate",
      { schema, data: {}, enrich: true },
      { "X-Request-Id": "slow-invalid" },
    );
    expect(await response.json()).toMatchObject({ valid: false, units: 1 });
    await blocked;
    await slow.settle();
    // The script ran after the timeout: the admission is in the stream and in Postgres (one id).
    const streamed = async () =>
      (await usageStream(slow))
        .filter((r) => r.request_id === "slow-invalid")
        .map((r) => `${r.kind}:${r.units}`);
    await expect.poll(streamed, { timeout: 3000 }).toEqual(["admit:2"]);
    expect((await billedUnitsByRequest(slow, account.id)).get("slow-invalid")).toBe(1);
  });
});
