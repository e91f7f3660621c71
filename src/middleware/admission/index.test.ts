import { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { AccessClaims } from "../../access/tokens";
import { createUnreachableRedisAdapter, type RedisAdapter } from "../../adapters/redis";
import { renderError } from "../../app";
import { parseConfig } from "../../config";
import type { AppBindings, BindingsWith } from "../../env";
import { ApiError } from "../../errors";
import type { AdmitUsageReply, UsageRecord } from "../../metering/usage-record";
import type { Services } from "../../services";
import type { AuthVariables } from "../auth";
import { admitUsage } from ".";

const config = parseConfig({
  UPSTASH_REDIS_REST_URL: "https://redis.example",
  UPSTASH_REDIS_REST_TOKEN: "t",
  SUPABASE_URL: "https://db.example",
  SUPABASE_SERVICE_ROLE_KEY: "k",
  STRIPE_SECRET_KEY: "sk_test_x",
});
const NOW = Date.parse("2026-05-01T12:00:00Z");

/** A Redis whose admission script answers `reply`; compensations are recorded. */
function fakeRedis(reply: AdmitUsageReply | "unreachable") {
  const appended: UsageRecord[] = [];
  const admitted: number[] = [];
  const redis: RedisAdapter = {
    ...createUnreachableRedisAdapter(),
    admitUsage: async (input) => {
      if (reply === "unreachable") throw new Error("redis unreachable");
      admitted.push(input.units);
      return reply;
    },
    appendUsage: async (record) => {
      appended.push(record);
      return true;
    },
  };
  return { redis, appended, admitted };
}

const window = { tier: "pro", limit: 100, remaining: 99, resetMs: 10_000, windowMs: 10_000, periodUnits: 7 };

function appWith(redis: RedisAdapter, tier = "pro") {
  const claims: AccessClaims = { sub: "acc_1", tier, cus: "cus_1", akid: "key_1", jti: "j", iat: 0, exp: 0 };
  // What the app-wide middleware and requireToken would have set.
  const authenticated = createMiddleware<BindingsWith<AuthVariables>>(async (c, next) => {
    c.set("requestId", "req_test");
    c.set("config", config);
    c.set("services", { redis, db: { rpc: async () => null } } as unknown as Services);
    c.set("auth", claims);
    c.set("subject", claims.sub);
    await next();
  });
  const app = new Hono<AppBindings>().onError(renderError);
  return app
    .use(authenticated)
    .get("/billable", admitUsage({ units: 1, now: () => NOW }), (c) =>
      c.json({ units: c.var.admission.record.units, period_units: c.var.admission.periodUnits }),
    )
    .get("/per-item", admitUsage({ units: (c) => Number(c.req.query("items")), now: () => NOW }), (c) =>
      c.json({ units: c.var.admission.record.units }),
    )
    .get("/fails", admitUsage({ units: 2, now: () => NOW }), () => {
      throw new ApiError("LIMIT_EXCEEDED", "Too deep.");
    });
}

afterEach(() => vi.restoreAllMocks());

describe("admitUsage", () => {
  it("admits, puts the admission on c.var and the RateLimit headers on the response", async () => {
    const { redis, appended } = fakeRedis({ status: "admitted", ...window });
    const response = await appWith(redis).request("/billable");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ units: 1, period_units: 7 });
    expect(response.headers.get("RateLimit-Policy")).toBe('"pro";q=100;w=10');
    expect(response.headers.get("RateLimit")).toBe('"pro";r=99;t=10');
    expect(appended).toEqual([]);
  });

  it("computes the units from the request when given a function", async () => {
    const { redis, admitted } = fakeRedis({ status: "admitted", ...window });
    expect(await (await appWith(redis).request("/per-item?items=3")).json()).toEqual({ units: 3 });
    expect(admitted).toEqual([3]);
  });

  it("compensates an admitted request whose response is not 2xx, with the same usage id", async () => {
    const { redis, appended } = fakeRedis({ status: "admitted", ...window });
    const response = await appWith(redis).request("/fails");
    expect(response.status).toBe(422);
    expect(response.headers.get("RateLimit-Policy")).toBe('"pro";q=100;w=10');
    expect(appended).toMatchObject([{ kind: "compensate", units: -2, subject: "acc_1" }]);
  });

  it("429 RATE_LIMITED with Retry-After and the RateLimit headers; the handler does not run", async () => {
    const { redis } = fakeRedis({ status: "rate_limited", ...window, remaining: 0, resetMs: 4000 });
    const response = await appWith(redis).request("/billable");
    expect(response.status).toBe(429);
    expect(response.headers.get("Retry-After")).toBe("4");
    expect(response.headers.get("RateLimit")).toBe('"pro";r=0;t=4');
    expect(((await response.json()) as { code: string }).code).toBe("RATE_LIMITED");
  });

  it("401 TOKEN_REVOKED for a deny-listed subject", async () => {
    const { redis } = fakeRedis({ status: "denied", reason: "subject" });
    const response = await appWith(redis).request("/billable");
    expect(response.status).toBe(401);
    expect(((await response.json()) as { code: string }).code).toBe("TOKEN_REVOKED");
  });

  it("503 for a fail-closed tier while Redis is unreachable", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => {});
    vi.spyOn(console, "error").mockImplementation(() => {});
    const { redis } = fakeRedis("unreachable");
    const response = await appWith(redis, "free").request("/billable");
    expect(response.status).toBe(503);
    expect(response.headers.get("Retry-After")).toBe("1");
    expect(((await response.json()) as { code: string }).code).toBe("DEPENDENCY_UNAVAILABLE");
  });
});
