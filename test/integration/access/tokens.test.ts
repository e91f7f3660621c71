/**
 * Accounts, API keys and tokens through the app factory, against real Postgres (migrations
 * applied, reached through the PostgREST bridge) and real Redis: sign-up, token exchange, JWKS,
 * every 401/403 of the access path, revocation on the next request, and key rotation.
 */
import { createLocalJWKSet, exportJWK, generateKeyPair, jwtVerify, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { revokeApiKey } from "../../../src/access/accounts";
import { type AccessHarness, problemOf, startAccessHarness } from "../harness/access";

let h: AccessHarness;

beforeAll(async () => {
  h = await startAccessHarness({
    env: { SIGNUP_RATE_LIMIT: JSON.stringify({ limit: 3, windowSeconds: 3600 }) },
  });
});
afterAll(async () => {
  await h?.stop();
});

const json = (body: unknown, headers: Record<string, string> = {}) => ({
  method: "POST",
  headers: { "Content-Type": "application/json", ...headers },
  body: JSON.stringify(body),
});
const bearer = (token: string) => ({ headers: { Authorization: `Bearer ${token}` } });

describe("POST /v1/signup", () => {
  it("creates a free account and returns its API key once; only the hash is stored", async () => {
    const response = await h.request(
      "/v1/signup",
      json({ email: "Ada@Example.com" }, { "CF-Connecting-IP": "192.0.2.1" }),
    );
    expect(response.status).toBe(201);
    expect(response.headers.get("Location")).toBe("/v1/account");
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    expect(response.headers.get("RateLimit-Policy")).toBe('"signup";q=3;w=3600');
    const body = (await response.json()) as Record<string, string>;
    expect(body).toMatchObject({ email: "ada@example.com", tier: "free" });
    expect(body.api_key).toMatch(/^sm_[a-z0-9]{10}_/);
    expect(body.api_key?.startsWith(`${body.api_key_prefix}_`)).toBe(true);

    const { rows } = await h.sql.query("select prefix, key_hash from public.api_keys where account_id = $1", [
      body.account_id,
    ]);
    expect(rows).toHaveLength(1);
    expect(rows[0].prefix).toBe(body.api_key_prefix);
    expect(rows[0].key_hash).toMatch(/^[0-9a-f]{64}$/);
    const dump = JSON.stringify((await h.sql.query("select * from public.api_keys")).rows);
    expect(dump).not.toContain(body.api_key);
  });

  it("refuses a duplicate email (any case) with 409 EMAIL_TAKEN", async () => {
    const response = await h.request(
      "/v1/signup",
      json({ email: "ADA@example.com" }, { "CF-Connecting-IP": "192.0.2.2" }),
    );
    expect(response.status).toBe(409);
    expect(await problemOf(response)).toMatchObject({ code: "EMAIL_TAKEN" });
  });

  it("refuses a malformed email with 400 and a pointer", async () => {
    const response = await h.request(
      "/v1/signup",
      json({ email: "nope" }, { "CF-Connecting-IP": "192.0.2.3" }),
    );
    expect(response.status).toBe(400);
    expect(await problemOf(response)).toMatchObject({ code: "BAD_REQUEST", errors: [{ pointer: "/email" }] });
  });

  it("rate limits sign-ups per client IP with 429 and Retry-After", async () => {
    const from = (n: number, ip: string) =>
      h.request("/v1/signup", json({ email: `ip${n}@example.com` }, { "CF-Connecting-IP": ip }));
    expect((await from(1, "198.51.100.7")).status).toBe(201);
    expect((await from(2, "198.51.100.7")).status).toBe(201);
    expect((await from(3, "198.51.100.7")).status).toBe(201);
    const limited = await from(4, "198.51.100.7");
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("Retry-After"))).toBeGreaterThan(3500);
    expect(limited.headers.get("RateLimit")).toMatch(/^"signup";r=0;t=\d+$/);
    expect(await problemOf(limited)).toMatchObject({ code: "RATE_LIMITED" });
    expect((await from(5, "198.51.100.8")).status).toBe(201);
  });

  it("counts IPv6 sign-ups per /64: new addresses of the same subscriber share one limit", async () => {
    const from = (n: number, ip: string) =>
      h.request("/v1/signup", json({ email: `v6-${n}@example.com` }, { "CF-Connecting-IP": ip }));
    expect((await from(1, "2001:db8:77:1::1")).status).toBe(201);
    expect((await from(2, "2001:db8:77:1:aaaa:bbbb:cccc:dddd")).status).toBe(201);
    expect((await from(3, "2001:DB8:77:1:ffff::9")).status).toBe(201);
    const limited = await from(4, "2001:db8:77:1:1234::5678");
    expect(limited.status).toBe(429);
    expect(await problemOf(limited)).toMatchObject({ code: "RATE_LIMITED" });
    // The next /64 is another subscriber.
    expect((await from(5, "2001:db8:77:2::1")).status).toBe(201);
  });

  it("counts IPv6 sign-ups by CLIENT_IPV6_PREFIX when an operator sets a shorter one", async () => {
    const env = { ...h.env, CLIENT_IPV6_PREFIX: "48" };
    const from = (n: number, ip: string) =>
      h.request("/v1/signup", json({ email: `v6-48-${n}@example.com` }, { "CF-Connecting-IP": ip }), env);
    // Three different /64s of one /48: with prefix 48 they are one network.
    expect((await from(1, "2001:db8:99:1::1")).status).toBe(201);
    expect((await from(2, "2001:db8:99:2::1")).status).toBe(201);
    expect((await from(3, "2001:db8:99:3::1")).status).toBe(201);
    const limited = await from(4, "2001:db8:99:4::1");
    expect(limited.status).toBe(429);
    expect(await problemOf(limited)).toMatchObject({ code: "RATE_LIMITED" });
    expect((await from(5, "2001:db8:9a:1::1")).status).toBe(201);
  });
});

describe("POST /v1/token and GET /.well-known/jwks.json", () => {
  it("exchanges an API key for an EdDSA token that the published JWKS verifies", async () => {
    const { apiKey, id } = await h.account("pro");
    const response = await h.request("/v1/token", { method: "POST", ...bearer(apiKey) });
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      token: string;
      expires_at: string;
      expires_in: number;
      tier: string;
    };
    expect(body.tier).toBe("pro");
    expect(body.expires_in).toBe(900);
    expect(Date.parse(body.expires_at) - Date.now()).toBeGreaterThan(890_000);

    const jwks = await h.request("/.well-known/jwks.json");
    expect(jwks.headers.get("Cache-Control")).toMatch(/max-age/);
    const set = (await jwks.json()) as { keys: Record<string, unknown>[] };
    expect(set.keys.every((key) => key.d === undefined)).toBe(true);
    const { payload, protectedHeader } = await jwtVerify(body.token, createLocalJWKSet(set as never));
    expect(protectedHeader).toMatchObject({ alg: "EdDSA", kid: h.stack.secrets.jwtPrivateJwk.kid });
    expect(payload).toMatchObject({ sub: id, tier: "pro", cus: null });
    expect(typeof payload.jti).toBe("string");
  });

  it("401 AUTH_REQUIRED without a key, API_KEY_INVALID for an unknown one", async () => {
    const missing = await h.request("/v1/token", { method: "POST" });
    expect(missing.status).toBe(401);
    expect(missing.headers.get("WWW-Authenticate")).toMatch(/^Bearer/);
    expect(await problemOf(missing)).toMatchObject({ code: "AUTH_REQUIRED" });

    const unknown = await h.request("/v1/token", {
      method: "POST",
      ...bearer(`sm_aaaaaaaaaa_${"A".repeat(43)}`),
    });
    expect(unknown.status).toBe(401);
    expect(unknown.headers.get("WWW-Authenticate")).toMatch(/error="invalid_token"/);
    expect(await problemOf(unknown)).toMatchObject({ code: "API_KEY_INVALID" });
  });

  it("limits token requests per client IP (TOKEN_RATE_LIMIT), counting only well-formed keys", async () => {
    const { apiKey } = await h.account();
    const env = { ...h.env, TOKEN_RATE_LIMIT: JSON.stringify({ limit: 2, windowSeconds: 60 }) };
    const mint = (ip: string, key = apiKey) =>
      h.request(
        "/v1/token",
        { method: "POST", headers: { ...bearer(key).headers, "CF-Connecting-IP": ip } },
        env,
      );

    const first = await mint("203.0.113.9");
    expect(first.status).toBe(200);
    expect(first.headers.get("RateLimit-Policy")).toBe('"token";q=2;w=60');
    expect(first.headers.get("RateLimit")).toMatch(/^"token";r=1;t=\d+$/);
    // Malformed keys are refused before they are counted (they never reach Postgres).
    expect((await mint("203.0.113.9", "not-a-key")).status).toBe(401);
    expect((await mint("203.0.113.9")).status).toBe(200);

    const limited = await mint("203.0.113.9");
    expect(limited.status).toBe(429);
    const retryAfter = Number(limited.headers.get("Retry-After"));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(await problemOf(limited)).toMatchObject({ code: "RATE_LIMITED" });
    // Another address is counted on its own.
    expect((await mint("203.0.113.10")).status).toBe(200);
  });

  it("403 with the reason for inactive accounts; past_due works until its grace ends", async () => {
    const { id, apiKey } = await h.account();
    const mint = () => h.request("/v1/token", { method: "POST", ...bearer(apiKey) });
    const setStatus = (status: string, graceUntil: string | null = null) =>
      h.sql.query("update public.accounts set status = $1, grace_until = $2 where id = $3", [
        status,
        graceUntil,
        id,
      ]);

    await setStatus("suspended");
    expect(await problemOf(await mint())).toMatchObject({ status: 403, code: "ACCOUNT_SUSPENDED" });
    await setStatus("closed");
    expect(await problemOf(await mint())).toMatchObject({ status: 403, code: "ACCOUNT_CLOSED" });
    await setStatus("past_due", new Date(Date.now() + 3600_000).toISOString());
    expect((await mint()).status).toBe(200);
    await setStatus("past_due", new Date(Date.now() - 1000).toISOString());
    expect(await problemOf(await mint())).toMatchObject({ status: 403, code: "ACCOUNT_PAST_DUE" });
  });
});

describe("GET /v1/account (a protected route)", () => {
  it("answers with the account, its limits and usage, and the RateLimit headers", async () => {
    const { token, id, email } = await h.account("pro");
    const response = await h.request("/v1/account", bearer(token));
    expect(response.status).toBe(200);
    expect(response.headers.get("RateLimit-Policy")).toBe('"pro";q=100;w=10');
    // An account read counts in its own window: the tier's, shown here, is left whole.
    expect(response.headers.get("RateLimit")).toMatch(/^"pro";r=100;t=10$/);
    expect(await response.json()).toMatchObject({
      id,
      email,
      tier: "pro",
      status: "active",
      rate_limit: { limit: 100, window_seconds: 10, remaining: 100, reset_seconds: 10 },
      reads_rate_limit: { limit: 60, window_seconds: 10, remaining: 59 },
      usage: { period: new Date().toISOString().slice(0, 7), units: 0 },
    });
  });

  it("401 AUTH_REQUIRED / TOKEN_INVALID / TOKEN_EXPIRED, each with WWW-Authenticate: Bearer", async () => {
    const none = await h.request("/v1/account");
    expect(none.status).toBe(401);
    expect(none.headers.get("WWW-Authenticate")).toBe('Bearer realm="schema-meter"');
    expect(await problemOf(none)).toMatchObject({
      code: "AUTH_REQUIRED",
      detail: expect.stringContaining("Authorization: Bearer <api key or token>"),
    });

    const garbage = await h.request("/v1/account", bearer("not-a-credential"));
    expect(garbage.headers.get("WWW-Authenticate")).toMatch(
      /^Bearer realm="schema-meter", error="invalid_token"/,
    );
    expect(await problemOf(garbage)).toMatchObject({
      status: 401,
      code: "TOKEN_INVALID",
      detail: expect.stringContaining("neither a valid token nor an API key"),
    });

    const { importJWK } = await import("jose");
    const key = await importJWK(h.stack.secrets.jwtPrivateJwk as never, "EdDSA");
    const past = Math.floor(Date.now() / 1000) - 3600;
    const expired = await new SignJWT({ sub: "x", tier: "free", cus: null, akid: null, jti: "j" })
      .setProtectedHeader({ alg: "EdDSA", kid: String(h.stack.secrets.jwtPrivateJwk.kid) })
      .setIssuer("schema-meter")
      .setAudience("schema-meter-api")
      .setIssuedAt(past)
      .setExpirationTime(past + 900)
      .sign(key);
    const response = await h.request("/v1/account", bearer(expired));
    expect(response.headers.get("WWW-Authenticate")).toMatch(/error="invalid_token"/);
    expect(await problemOf(response)).toMatchObject({ status: 401, code: "TOKEN_EXPIRED" });
  });

  it("revoking the API key refuses its live tokens on the very next request", async () => {
    const { token, apiKey } = await h.account("pro");
    expect((await h.request("/v1/account", bearer(token))).status).toBe(200);
    const prefix = apiKey.slice(0, 13);
    const revoked = await revokeApiKey({ db: h.db, redis: h.redis }, prefix);
    expect(revoked).toMatchObject({ key_prefix: prefix, denyListed: true });

    const next = await h.request("/v1/account", bearer(token));
    expect(next.status).toBe(401);
    expect(next.headers.get("WWW-Authenticate")).toMatch(/error="invalid_token"/);
    expect(await problemOf(next)).toMatchObject({ code: "TOKEN_REVOKED" });
    expect(
      await problemOf(await h.request("/v1/token", { method: "POST", ...bearer(apiKey) })),
    ).toMatchObject({
      code: "API_KEY_INVALID",
    });
  });

  it("a deny-listed subject is refused on the next request, with every token it holds", async () => {
    const { token, id, apiKey } = await h.account("pro");
    const minted = await h.request("/v1/token", { method: "POST", ...bearer(apiKey) });
    const { token: another } = (await minted.json()) as { token: string };
    expect(another).not.toBe(token);
    for (const t of [token, another]) expect((await h.request("/v1/account", bearer(t))).status).toBe(200);
    await h.redis.denySubject(id, 60);
    for (const t of [token, another]) {
      expect(await problemOf(await h.request("/v1/account", bearer(t)))).toMatchObject({
        code: "TOKEN_REVOKED",
      });
    }
  });
});

describe("key rotation", () => {
  it("accepts tokens of both keys while both are published, then only the new one", async () => {
    const { publicKey, privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
    const next = {
      private: { ...(await exportJWK(privateKey)), kid: "next", alg: "EdDSA", use: "sig" },
      public: { ...(await exportJWK(publicKey)), kid: "next", alg: "EdDSA", use: "sig" },
    };
    const old = h.stack.secrets;
    const { token: oldToken } = await h.account("pro");

    // Step 1: publish both, sign with the new key.
    const during = {
      ...h.env,
      JWT_PRIVATE_JWK: JSON.stringify(next.private),
      JWT_PUBLIC_JWKS: JSON.stringify({ keys: [...old.jwtPublicJwks.keys, next.public] }),
    };
    const jwks = (await (await h.request("/.well-known/jwks.json", undefined, during)).json()) as {
      keys: { kid: string }[];
    };
    expect(jwks.keys.map((key) => key.kid)).toEqual([old.jwtPrivateJwk.kid, "next"]);
    const { apiKey } = await h.account();
    const minted = (await (
      await h.request("/v1/token", { method: "POST", ...bearer(apiKey) }, during)
    ).json()) as {
      token: string;
    };
    expect(JSON.parse(Buffer.from(minted.token.split(".")[0]!, "base64url").toString()).kid).toBe("next");
    expect((await h.request("/v1/account", bearer(oldToken), during)).status).toBe(200);
    expect((await h.request("/v1/account", bearer(minted.token), during)).status).toBe(200);

    // Step 2: retire the old key.
    const after = { ...during, JWT_PUBLIC_JWKS: JSON.stringify({ keys: [next.public] }) };
    expect(await problemOf(await h.request("/v1/account", bearer(oldToken), after))).toMatchObject({
      code: "TOKEN_INVALID",
    });
    expect((await h.request("/v1/account", bearer(minted.token), after)).status).toBe(200);
  });

  it("an HS256 deployment refuses EdDSA tokens and vice versa", async () => {
    const hs = { ...h.env, JWT_PRIVATE_JWK: "", JWT_PUBLIC_JWKS: "", JWT_SECRET: "x".repeat(48) };
    const { apiKey, token: eddsaToken } = await h.account();
    const minted = (await (
      await h.request("/v1/token", { method: "POST", ...bearer(apiKey) }, hs)
    ).json()) as {
      token: string;
    };
    expect(JSON.parse(Buffer.from(minted.token.split(".")[0]!, "base64url").toString()).alg).toBe("HS256");
    expect((await h.request("/v1/account", bearer(minted.token), hs)).status).toBe(200);
    expect((await h.request("/v1/account", bearer(eddsaToken), hs)).status).toBe(401);
    expect((await h.request("/v1/account", bearer(minted.token))).status).toBe(401);
    expect(
      ((await (await h.request("/.well-known/jwks.json", undefined, hs)).json()) as { keys: unknown[] }).keys,
    ).toEqual([]);
  });
});
