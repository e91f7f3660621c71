import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { hashApiKey } from "../../access/api-keys";
import { loadTokenKeys } from "../../access/token-keys";
import { issueAccessToken } from "../../access/tokens";
import { renderError } from "../../app";
import { parseConfig } from "../../config";
import type { AppBindings } from "../../env";
import type { Services } from "../../services";
import { requireCredential } from ".";

const config = parseConfig({
  UPSTASH_REDIS_REST_URL: "https://redis.example",
  UPSTASH_REDIS_REST_TOKEN: "t",
  SUPABASE_URL: "https://db.example",
  SUPABASE_SERVICE_ROLE_KEY: "k",
  STRIPE_SECRET_KEY: "sk_test_x",
  JWT_SECRET: "a-test-secret-of-at-least-32-characters",
});
const issuedAt = new Date("2026-05-01T12:00:00Z");
const later = (seconds: number) => new Date(issuedAt.getTime() + seconds * 1000);

function appAt(now: Date) {
  return new Hono<AppBindings>()
    .use(async (c, next) => {
      c.set("requestId", "req_test");
      c.set("config", config);
      c.set("services", {} as Services);
      await next();
    })
    .get("/me", requireCredential({ now: () => now }), (c) => {
      const credential = c.get("credential");
      if (credential.kind === "api_key") return c.json({ api_key: credential });
      return c.json({ sub: c.var.auth.sub, tier: c.var.auth.tier, subject: c.var.subject });
    })
    .onError(renderError);
}

async function token() {
  const issued = await issueAccessToken(
    await loadTokenKeys(config),
    { accountId: "acc_1", tier: "pro", stripeCustomerId: "cus_1", apiKeyId: "key_1" },
    { ttlSeconds: 900, now: issuedAt },
  );
  return issued.token;
}

const bearer = (value: string) => ({ headers: { Authorization: `Bearer ${value}` } });

describe("requireCredential", () => {
  it("takes an API key by its shape, keeping only its hash and prefix (admission resolves it)", async () => {
    const key = `sm_abcdefghij_${"x".repeat(43)}`;
    const response = await appAt(later(60)).request("/me", bearer(key));
    expect(response.status).toBe(200);
    const body = await response.text();
    expect(JSON.parse(body)).toEqual({
      api_key: { kind: "api_key", keyHash: await hashApiKey(key), prefix: "sm_abcdefghij" },
    });
    expect(body).not.toContain(key);
  });

  it("says what to send: no credential, a key without Bearer, a truncated key", async () => {
    const none = await appAt(later(60)).request("/me");
    expect(await none.json()).toMatchObject({
      code: "AUTH_REQUIRED",
      detail: expect.stringContaining("Send your API key"),
    });
    const bare = await appAt(later(60)).request("/me", { headers: { Authorization: "sm_abcdefghij_x" } });
    expect(await bare.json()).toMatchObject({
      code: "AUTH_REQUIRED",
      detail: expect.stringContaining('Put "Bearer " before the credential'),
    });
    const truncated = await appAt(later(60)).request("/me", bearer("sm_abcdefghij_xyz"));
    expect(truncated.status).toBe(401);
    expect(truncated.headers.get("WWW-Authenticate")).toMatch(/error="invalid_token"/);
    expect(await truncated.json()).toMatchObject({ code: "API_KEY_INVALID" });
  });

  it("puts a valid token's claims and subject on c.var", async () => {
    const response = await appAt(later(60)).request("/me", bearer(await token()));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ sub: "acc_1", tier: "pro", subject: "acc_1" });
  });

  it("401 AUTH_REQUIRED with a bare challenge when no bearer token is sent", async () => {
    for (const init of [{}, { headers: { Authorization: "Basic dXNlcjpwYXNz" } }]) {
      const response = await appAt(later(60)).request("/me", init);
      expect(response.status).toBe(401);
      expect(response.headers.get("WWW-Authenticate")).toBe('Bearer realm="schema-meter"');
      expect(((await response.json()) as { code: string }).code).toBe("AUTH_REQUIRED");
    }
  });

  it("401 TOKEN_EXPIRED past the token's lifetime, TOKEN_INVALID for a forged one, each with invalid_token", async () => {
    const expired = await appAt(later(3600)).request("/me", bearer(await token()));
    expect(expired.status).toBe(401);
    expect(((await expired.json()) as { code: string }).code).toBe("TOKEN_EXPIRED");
    expect(expired.headers.get("WWW-Authenticate")).toBe(
      'Bearer realm="schema-meter", error="invalid_token", error_description="The token expired"',
    );

    const forged = await appAt(later(60)).request("/me", bearer("eyJhbGciOiJub25lIn0.e30."));
    expect(forged.status).toBe(401);
    expect(((await forged.json()) as { code: string }).code).toBe("TOKEN_INVALID");
    expect(forged.headers.get("WWW-Authenticate")).toBe(
      'Bearer realm="schema-meter", error="invalid_token", error_description="The token is invalid"',
    );
  });
});
