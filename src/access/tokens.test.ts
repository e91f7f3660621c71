import { base64url, exportJWK, generateKeyPair, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { type Config, parseConfig } from "../config";
import { loadTokenKeys, pinnedAlgorithm, type TokenKeys } from "./token-keys";
import { issueAccessToken, TOKEN_AUDIENCE, TOKEN_ISSUER, verifyAccessToken } from "./tokens";

const base = {
  UPSTASH_REDIS_REST_URL: "https://redis.example",
  UPSTASH_REDIS_REST_TOKEN: "t",
  SUPABASE_URL: "https://db.example",
  SUPABASE_SERVICE_ROLE_KEY: "k",
  STRIPE_SECRET_KEY: "sk_test_x",
};

async function ed25519(kid: string) {
  const { publicKey, privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
  const pub = { ...(await exportJWK(publicKey)), kid, alg: "EdDSA", use: "sig" };
  const priv = { ...(await exportJWK(privateKey)), kid, alg: "EdDSA", use: "sig" };
  return { pub, priv, privateKey };
}

function configWith(env: Record<string, string>): Config {
  return parseConfig({ ...base, ...env });
}

const subject = { accountId: "acc-1", tier: "pro", stripeCustomerId: "cus_1", apiKeyId: "key-1" };
const now = new Date("2026-01-01T12:00:00Z");
const at = (seconds: number) => new Date(now.getTime() + seconds * 1000);

/** A well-formed claims set for hand-made tokens. */
const claims = (overrides: Record<string, unknown> = {}) => ({
  sub: "acc-1",
  tier: "pro",
  cus: "cus_1",
  akid: "key-1",
  jti: "j-1",
  iat: Math.floor(now.getTime() / 1000),
  exp: Math.floor(now.getTime() / 1000) + 900,
  iss: TOKEN_ISSUER,
  aud: TOKEN_AUDIENCE,
  ...overrides,
});

describe("EdDSA tokens", async () => {
  const current = await ed25519("k2");
  const previous = await ed25519("k1");
  const config = configWith({
    JWT_PRIVATE_JWK: JSON.stringify(current.priv),
    JWT_PUBLIC_JWKS: JSON.stringify({ keys: [previous.pub, current.pub] }),
  });
  const keys = await loadTokenKeys(config);

  it("pins EdDSA and serves only public members in the JWKS", () => {
    expect(pinnedAlgorithm(config)).toBe("EdDSA");
    expect(keys.jwks.keys.map((key) => key.kid)).toEqual(["k1", "k2"]);
    expect(JSON.stringify(keys.jwks)).not.toContain('"d"');
  });

  it("issues a token with kid that verifies, carrying the account's claims", async () => {
    const issued = await issueAccessToken(keys, subject, { ttlSeconds: 900, now });
    const [header] = issued.token.split(".");
    expect(JSON.parse(new TextDecoder().decode(base64url.decode(header ?? "")))).toMatchObject({
      alg: "EdDSA",
      kid: "k2",
    });
    const verdict = await verifyAccessToken(keys, issued.token, { now: at(1) });
    expect(verdict).toMatchObject({
      ok: true,
      claims: { sub: "acc-1", tier: "pro", cus: "cus_1", akid: "key-1" },
    });
    expect(issued.expiresAt - issued.claims.iat).toBe(900);
  });

  it("accepts tokens signed with the previous key during a rotation", async () => {
    const token = await new SignJWT(claims())
      .setProtectedHeader({ alg: "EdDSA", kid: "k1" })
      .sign(previous.privateKey);
    expect((await verifyAccessToken(keys, token, { now })).ok).toBe(true);
  });

  it("allows at most 30 s of clock skew on exp", async () => {
    const issued = await issueAccessToken(keys, subject, { ttlSeconds: 60, now });
    expect((await verifyAccessToken(keys, issued.token, { now: at(60 + 29) })).ok).toBe(true);
    expect(await verifyAccessToken(keys, issued.token, { now: at(60 + 31) })).toMatchObject({
      ok: false,
      code: "TOKEN_EXPIRED",
    });
  });

  it("rejects a token not valid yet (nbf beyond the skew)", async () => {
    const sign = (nbf: number) =>
      new SignJWT(claims({ nbf: Math.floor(now.getTime() / 1000) + nbf }))
        .setProtectedHeader({ alg: "EdDSA", kid: "k2" })
        .sign(current.privateKey);
    expect((await verifyAccessToken(keys, await sign(20), { now })).ok).toBe(true);
    expect(await verifyAccessToken(keys, await sign(60), { now })).toMatchObject({
      ok: false,
      code: "TOKEN_INVALID",
    });
  });

  const rejected: [string, () => Promise<string>][] = [
    [
      "alg none",
      async () => {
        const enc = (value: unknown) => base64url.encode(JSON.stringify(value));
        return `${enc({ alg: "none", typ: "JWT" })}.${enc(claims())}.`;
      },
    ],
    [
      "HS256 signed with the public key",
      async () => {
        // The classic confusion attack: the public key's bytes (or its JSON) used as an HMAC secret.
        const secret = new TextEncoder().encode(JSON.stringify(current.pub));
        return new SignJWT(claims()).setProtectedHeader({ alg: "HS256", kid: "k2" }).sign(secret);
      },
    ],
    [
      "HS256 signed with the raw public key bytes",
      async () =>
        new SignJWT(claims())
          .setProtectedHeader({ alg: "HS256", kid: "k2" })
          .sign(base64url.decode(String(current.pub.x))),
    ],
    [
      "an unknown kid",
      async () => {
        const stranger = await ed25519("k9");
        return new SignJWT(claims())
          .setProtectedHeader({ alg: "EdDSA", kid: "k9" })
          .sign(stranger.privateKey);
      },
    ],
    [
      "a known kid but another key's signature",
      async () => {
        const stranger = await ed25519("k2");
        return new SignJWT(claims())
          .setProtectedHeader({ alg: "EdDSA", kid: "k2" })
          .sign(stranger.privateKey);
      },
    ],
    [
      "no kid",
      async () => new SignJWT(claims()).setProtectedHeader({ alg: "EdDSA" }).sign(current.privateKey),
    ],
    [
      "a tampered payload",
      async () => {
        const token = await new SignJWT(claims())
          .setProtectedHeader({ alg: "EdDSA", kid: "k2" })
          .sign(current.privateKey);
        const [header, , signature] = token.split(".");
        return `${header}.${base64url.encode(JSON.stringify(claims({ tier: "enterprise" })))}.${signature}`;
      },
    ],
    [
      "a wrong audience",
      async () =>
        new SignJWT(claims({ aud: "someone-else" }))
          .setProtectedHeader({ alg: "EdDSA", kid: "k2" })
          .sign(current.privateKey),
    ],
    [
      "missing claims",
      async () =>
        new SignJWT(claims({ tier: undefined }))
          .setProtectedHeader({ alg: "EdDSA", kid: "k2" })
          .sign(current.privateKey),
    ],
    [
      "a lifetime longer than the longest TOKEN_TTL_SECONDS (exp - iat > 3600)",
      async () =>
        new SignJWT(claims({ exp: Math.floor(now.getTime() / 1000) + 3601 }))
          .setProtectedHeader({ alg: "EdDSA", kid: "k2" })
          .sign(current.privateKey),
    ],
    [
      "an iat in the future beyond the skew",
      async () =>
        new SignJWT(claims({ iat: Math.floor(now.getTime() / 1000) + 120 }))
          .setProtectedHeader({ alg: "EdDSA", kid: "k2" })
          .sign(current.privateKey),
    ],
    [
      "a valid token with = padding added",
      async () => `${(await issueAccessToken(keys, subject, { ttlSeconds: 900, now })).token}==`,
    ],
    [
      "a valid token whose last character has its unused bits set (same bytes, other spelling)",
      async () => {
        const { token } = await issueAccessToken(keys, subject, { ttlSeconds: 900, now });
        const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        // An Ed25519 signature is 64 bytes: 86 characters, the last one carrying 4 unused bits.
        const last = alphabet.indexOf(token.charAt(token.length - 1));
        return token.slice(0, -1) + alphabet.charAt(last | 0b0001);
      },
    ],
    ["garbage", async () => "not-a-token"],
    ["two segments", async () => "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0"],
    ["bad base64", async () => "%%%.%%%.%%%"],
    [
      "a JSON header that is not an object",
      async () => `${base64url.encode("[]")}.${base64url.encode("{}")}.AAAA`,
    ],
  ];

  it.each(rejected)("rejects %s as TOKEN_INVALID", async (_, make) => {
    expect(await verifyAccessToken(keys, await make(), { now })).toMatchObject({
      ok: false,
      code: "TOKEN_INVALID",
    });
  });

  it("stops accepting a key once it is removed from JWT_PUBLIC_JWKS", async () => {
    const token = await new SignJWT(claims())
      .setProtectedHeader({ alg: "EdDSA", kid: "k1" })
      .sign(previous.privateKey);
    const after: TokenKeys = await loadTokenKeys(
      configWith({
        JWT_PRIVATE_JWK: JSON.stringify(current.priv),
        JWT_PUBLIC_JWKS: JSON.stringify({ keys: [current.pub] }),
      }),
    );
    expect((await verifyAccessToken(after, token, { now })).ok).toBe(false);
  });
});

describe("HS256 tokens (JWT_SECRET only)", async () => {
  const secret = "s".repeat(40);
  const keys = await loadTokenKeys(configWith({ JWT_SECRET: secret }));

  it("issues and verifies HS256, and serves an empty JWKS", async () => {
    expect(keys.algorithm).toBe("HS256");
    expect(keys.jwks.keys).toEqual([]);
    const issued = await issueAccessToken(keys, subject, { ttlSeconds: 900, now });
    expect((await verifyAccessToken(keys, issued.token, { now })).ok).toBe(true);
  });

  it("rejects an EdDSA token and one signed with another secret", async () => {
    const other = await ed25519("k1");
    const eddsa = await new SignJWT(claims())
      .setProtectedHeader({ alg: "EdDSA", kid: "k1" })
      .sign(other.privateKey);
    expect((await verifyAccessToken(keys, eddsa, { now })).ok).toBe(false);
    const forged = await new SignJWT(claims())
      .setProtectedHeader({ alg: "HS256" })
      .sign(new TextEncoder().encode("x".repeat(40)));
    expect((await verifyAccessToken(keys, forged, { now })).ok).toBe(false);
  });
});

describe("key configuration", () => {
  it("refuses a public set without kids, and a private key whose public half is not published", async () => {
    const a = await ed25519("a");
    const b = await ed25519("b");
    const { kid: _, ...noKid } = a.pub;
    await expect(
      loadTokenKeys(configWith({ JWT_PUBLIC_JWKS: JSON.stringify({ keys: [noKid] }) })),
    ).rejects.toThrow(/kid/);
    await expect(
      loadTokenKeys(
        configWith({
          JWT_PRIVATE_JWK: JSON.stringify(a.priv),
          JWT_PUBLIC_JWKS: JSON.stringify({ keys: [b.pub] }),
        }),
      ),
    ).rejects.toThrow(/public half/);
  });

  it("prefers EdDSA when both kinds are configured, unless JWT_ALGORITHM says otherwise", async () => {
    const a = await ed25519("a");
    const both = { JWT_PUBLIC_JWKS: JSON.stringify({ keys: [a.pub] }), JWT_SECRET: "s".repeat(40) };
    expect(pinnedAlgorithm(configWith(both))).toBe("EdDSA");
    expect(pinnedAlgorithm(configWith({ ...both, JWT_ALGORITHM: "HS256" }))).toBe("HS256");
  });
});
