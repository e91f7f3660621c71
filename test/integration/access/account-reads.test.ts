/**
 * Account reads (GET /v1/account, /v1/keys, /v1/schemas) count in a window of their own, so a
 * caller limited on validation can still look at why, as GitHub's GET /rate_limit; /v1/account
 * shows both windows. Through the API against the real local stack (free tier: 5 units per 10 s).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AccessHarness, startAccessHarness } from "../harness/access";

let h: AccessHarness;
beforeAll(async () => {
  h = await startAccessHarness({
    env: {
      RATE_LIMIT_TIERS: JSON.stringify({
        free: { limit: 5, windowSeconds: 10 },
        pro: { limit: 1000, windowSeconds: 10 },
      }),
    },
  });
});
afterAll(async () => {
  await h?.stop();
});

const get = (key: string, path: string) => h.request(path, { headers: { Authorization: `Bearer ${key}` } });
const validate = (key: string) =>
  h.request("/v1/validate", {
    method: "POST",
    headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
    body: JSON.stringify({ schema: {}, data: 1 }),
  });

describe("account reads", () => {
  it("answer while validation is rate limited, and /v1/account shows the exhausted window", async () => {
    const { apiKey, token } = await h.account("free");
    for (let i = 0; i < 5; i++) expect((await validate(apiKey)).status).toBe(200);
    expect((await validate(apiKey)).status).toBe(429);
    for (const credential of [apiKey, token]) {
      const me = await get(credential, "/v1/account");
      expect(me.status).toBe(200);
      // The headers show the tier's window (what the caller asks about), unspent by this read.
      expect(me.headers.get("RateLimit-Policy")).toBe('"free";q=5;w=10');
      expect(me.headers.get("RateLimit")).toMatch(/^"free";r=0;t=\d+$/);
      const body = (await me.json()) as Record<string, Record<string, unknown>>;
      expect(body.tier).toBe("free");
      expect(body.rate_limit).toMatchObject({ limit: 5, window_seconds: 10, remaining: 0 });
      expect(Number(body.rate_limit?.reset_seconds)).toBeGreaterThan(0);
      expect(body.reads_rate_limit).toMatchObject({ limit: 60, window_seconds: 10 });
      expect(body.usage).toMatchObject({ units: 5 });
    }
    expect((await get(apiKey, "/v1/keys")).status).toBe(200);
    expect((await get(apiKey, "/v1/schemas")).status).toBe(200);
    // The reads spent nothing of the tier's window, and validation is still limited.
    expect((await validate(apiKey)).status).toBe(429);
  });

  it("have a limit of their own, which does not touch the tier's window", async () => {
    const { apiKey } = await h.account("free");
    const statuses: number[] = [];
    for (let round = 0; round < 7; round++) {
      statuses.push(
        ...(await Promise.all(
          Array.from({ length: 10 }, () => get(apiKey, "/v1/account").then((r) => r.status)),
        )),
      );
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(60);
    expect(statuses.filter((s) => s === 429)).toHaveLength(10);
    const limited = await get(apiKey, "/v1/keys");
    expect(limited.status).toBe(429);
    expect(limited.headers.get("RateLimit-Policy")).toBe('"account-reads";q=60;w=10');
    const ok = await validate(apiKey);
    expect(ok.status).toBe(200);
    expect(ok.headers.get("RateLimit")).toMatch(/^"free";r=4;/);
  });

  it("writes (POST /v1/keys) still count in the tier's window", async () => {
    const { apiKey } = await h.account("free");
    const created = await h.request("/v1/keys", {
      method: "POST",
      headers: { Authorization: `Bearer ${apiKey}`, "Content-Type": "application/json" },
      body: JSON.stringify({ name: "ci" }),
    });
    expect(created.status).toBe(201);
    expect(created.headers.get("RateLimit")).toMatch(/^"free";r=4;/);
  });
});
