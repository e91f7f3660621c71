import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { renderError } from "../../app";
import { type Config, parseConfig } from "../../config";
import type { AppBindings } from "../../env";
import type { Services } from "../../services";
import { requireAdmin } from ".";

const ADMIN_TOKEN = "an-admin-token-of-24-chars-or-more";
const configWith = (admin: Record<string, string>): Config =>
  parseConfig({
    UPSTASH_REDIS_REST_URL: "https://redis.example",
    UPSTASH_REDIS_REST_TOKEN: "t",
    SUPABASE_URL: "https://db.example",
    SUPABASE_SERVICE_ROLE_KEY: "k",
    STRIPE_SECRET_KEY: "sk_test_x",
    ...admin,
  });

function appWith(config: Config) {
  return new Hono<AppBindings>()
    .use(async (c, next) => {
      c.set("requestId", "req_test");
      c.set("config", config);
      c.set("services", {} as Services);
      await next();
    })
    .post("/admin/flush", requireAdmin(), (c) => c.json({ subject: c.var.subject }))
    .onError(renderError);
}

const post = (config: Config, authorization?: string) =>
  appWith(config).request("/admin/flush", {
    method: "POST",
    headers: authorization === undefined ? {} : { Authorization: authorization },
  });

describe("requireAdmin", () => {
  it("lets the admin token through, as subject admin", async () => {
    const response = await post(configWith({ ADMIN_TOKEN }), `Bearer ${ADMIN_TOKEN}`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ subject: "admin" });
  });

  it("401 AUTH_REQUIRED with the admin realm for a missing or wrong token", async () => {
    for (const authorization of [
      undefined,
      "Bearer wrong-token",
      `Basic ${ADMIN_TOKEN}`,
      `Bearer ${ADMIN_TOKEN}x`,
    ]) {
      const response = await post(configWith({ ADMIN_TOKEN }), authorization);
      expect(response.status).toBe(401);
      expect(response.headers.get("WWW-Authenticate")).toBe('Bearer realm="admin"');
      expect(((await response.json()) as { code: string }).code).toBe("AUTH_REQUIRED");
    }
  });

  it("404 when ADMIN_TOKEN is not configured: the endpoints do not exist for this deployment", async () => {
    const response = await post(configWith({}), `Bearer ${ADMIN_TOKEN}`);
    expect(response.status).toBe(404);
    expect(((await response.json()) as { code: string }).code).toBe("NOT_FOUND");
  });
});
