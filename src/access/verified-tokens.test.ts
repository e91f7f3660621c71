import { exportJWK, generateKeyPair } from "jose";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { parseConfig } from "../config";
import { loadTokenKeys } from "./token-keys";
import { issueAccessToken, verifyAccessToken } from "./tokens";
import { verifyAccessTokenCached } from "./verified-tokens";

// The real verifier, wrapped so a test can count the signature checks the cache saves.
vi.mock("./tokens", async (importOriginal) => {
  const actual = await importOriginal<typeof import("./tokens")>();
  return { ...actual, verifyAccessToken: vi.fn(actual.verifyAccessToken) };
});
const verifier = vi.mocked(verifyAccessToken);

async function keySet(kid: string) {
  const { publicKey, privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
  const config = parseConfig({
    UPSTASH_REDIS_REST_URL: "https://redis.example",
    UPSTASH_REDIS_REST_TOKEN: "t",
    SUPABASE_URL: "https://db.example",
    SUPABASE_SERVICE_ROLE_KEY: "k",
    STRIPE_SECRET_KEY: "sk_test_x",
    JWT_PRIVATE_JWK: JSON.stringify({ ...(await exportJWK(privateKey)), kid, alg: "EdDSA" }),
    JWT_PUBLIC_JWKS: JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid, alg: "EdDSA" }] }),
  });
  return loadTokenKeys(config);
}

const subject = { accountId: "acc-1", tier: "pro", stripeCustomerId: "cus_1", apiKeyId: "key-1" };
const now = new Date("2026-01-01T12:00:00Z");
const at = (seconds: number) => new Date(now.getTime() + seconds * 1000);

describe("verifyAccessTokenCached", async () => {
  const keys = await keySet("a");
  const { token } = await issueAccessToken(keys, subject, { ttlSeconds: 60, now });
  beforeEach(() => {
    verifier.mockClear();
  });

  it("accepts a valid token, again from the cache, with the same claims", async () => {
    const { token: fresh } = await issueAccessToken(keys, subject, { ttlSeconds: 60, now });
    const first = await verifyAccessTokenCached(keys, fresh, { now });
    const second = await verifyAccessTokenCached(keys, fresh, { now: at(10) });
    expect(first).toMatchObject({ ok: true, claims: { sub: "acc-1", tier: "pro" } });
    expect(second).toEqual(first);
    // The signature was checked once: the second answer came from the cache.
    expect(verifier).toHaveBeenCalledTimes(1);
  });

  it("a cached token still expires, with the verifier's 30 s tolerance", async () => {
    await verifyAccessTokenCached(keys, token, { now });
    expect((await verifyAccessTokenCached(keys, token, { now: at(60 + 29) })).ok).toBe(true);
    expect(await verifyAccessTokenCached(keys, token, { now: at(60 + 31) })).toMatchObject({
      ok: false,
      code: "TOKEN_EXPIRED",
    });
  });

  it("a token cached under one key set is not trusted under another", async () => {
    await verifyAccessTokenCached(keys, token, { now });
    const otherKeys = await keySet("b");
    expect(await verifyAccessTokenCached(otherKeys, token, { now })).toMatchObject({
      ok: false,
      code: "TOKEN_INVALID",
    });
  });

  it("failures are never cached: a token refused at the wrong time verifies at the right one", async () => {
    const { token: fresh } = await issueAccessToken(keys, subject, { ttlSeconds: 60, now });
    expect(await verifyAccessTokenCached(keys, fresh, { now: at(3600) })).toMatchObject({
      ok: false,
      code: "TOKEN_EXPIRED",
    });
    // A remembered failure would refuse it again; the verifier is asked afresh instead.
    expect(await verifyAccessTokenCached(keys, fresh, { now })).toMatchObject({
      ok: true,
      claims: { jti: expect.any(String), sub: "acc-1" },
    });
    expect(verifier).toHaveBeenCalledTimes(2);
  });

  it("a tampered token stays invalid", async () => {
    const [header, payload, signature = ""] = token.split(".");
    // Another first character: a different signature whatever the original (replacing the last two
    // with "AA" left one in 256 signatures unchanged, and the test then failed).
    const tampered = `${header}.${payload}.${signature.startsWith("A") ? "B" : "A"}${signature.slice(1)}`;
    expect(tampered).not.toBe(token);
    expect((await verifyAccessTokenCached(keys, tampered, { now })).ok).toBe(false);
    expect((await verifyAccessTokenCached(keys, tampered, { now })).ok).toBe(false);
  });
});
