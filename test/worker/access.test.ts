/**
 * Access in workerd (the real Worker entry point, src/index.ts) against the real local stack:
 * Ed25519 signing and verification with workerd's WebCrypto, the Upstash client's EVALSHA path,
 * and the PostgREST rpc calls, end to end through sign-up, token, account and JWKS.
 */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";

const api = (path: string, init?: RequestInit) => SELF.fetch(`http://api.test${path}`, init);

describe("access in workerd", () => {
  it("sign-up → token → protected account read, with RateLimit headers; JWKS verifies the token's kid", async () => {
    const signup = await api("/v1/signup", {
      method: "POST",
      headers: { "Content-Type": "application/json", "CF-Connecting-IP": "203.0.113.9" },
      body: JSON.stringify({ email: `worker-${crypto.randomUUID()}@example.com` }),
    });
    expect(signup.status, await signup.clone().text()).toBe(201);
    const { api_key: apiKey } = (await signup.json()) as { api_key: string };

    const minted = await api("/v1/token", { method: "POST", headers: { Authorization: `Bearer ${apiKey}` } });
    expect(minted.status).toBe(200);
    const { token } = (await minted.json()) as { token: string };
    const header = JSON.parse(atob(token.split(".")[0]!.replaceAll("-", "+").replaceAll("_", "/"))) as {
      kid: string;
    };

    const jwks = (await (await api("/.well-known/jwks.json")).json()) as { keys: { kid: string }[] };
    expect(jwks.keys.map((key) => key.kid)).toContain(header.kid);

    const account = await api("/v1/account", { headers: { Authorization: `Bearer ${token}` } });
    expect(account.status, await account.clone().text()).toBe(200);
    // Reading the account counts in a window of its own: the tier's window is shown, not spent.
    expect(account.headers.get("RateLimit-Policy")).toBe('"free";q=5;w=10');
    expect(account.headers.get("RateLimit")).toMatch(/^"free";r=5;t=\d+$/);

    const validate = () =>
      api("/v1/validate", {
        method: "POST",
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
        body: JSON.stringify({ schema: { type: "integer" }, data: 1 }),
      });
    const first = await validate();
    expect(first.status, await first.clone().text()).toBe(200);
    expect(first.headers.get("RateLimit")).toMatch(/^"free";r=4;t=\d+$/);
    for (let i = 0; i < 4; i++) await validate();
    const limited = await validate();
    expect(limited.status).toBe(429);
    expect(limited.headers.get("Retry-After")).toMatch(/^\d+$/);
    expect(((await limited.json()) as { code: string }).code).toBe("RATE_LIMITED");
    // Limited on validation, the caller can still read why.
    expect((await api("/v1/account", { headers: { Authorization: `Bearer ${token}` } })).status).toBe(200);
  });

  it("refuses a forged token with 401 and a Bearer challenge", async () => {
    const response = await api("/v1/account", {
      headers: { Authorization: "Bearer eyJhbGciOiJub25lIn0.e30." },
    });
    expect(response.status).toBe(401);
    expect(response.headers.get("WWW-Authenticate")).toMatch(
      /^Bearer realm="schema-meter", error="invalid_token"/,
    );
  });
});
