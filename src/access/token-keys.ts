import { type CryptoKey, importJWK, type JWK } from "jose";
import type { Config } from "../config";

/** The settings that decide token keys (the operator scripts build this without a full Config). */
export type TokenConfig = Pick<
  Config,
  "JWT_ALGORITHM" | "JWT_PRIVATE_JWK" | "JWT_PUBLIC_JWKS" | "JWT_SECRET"
>;

/** The token algorithms this API can be configured with. Exactly one is in force at a time. */
export type TokenAlgorithm = "EdDSA" | "HS256";

/** A public key as served at /.well-known/jwks.json: public members only. */
export interface PublicJwk {
  kty: "OKP";
  crv: "Ed25519";
  x: string;
  kid: string;
  alg: "EdDSA";
  use: "sig";
}

/** Key material for issuing and verifying tokens, imported once per configuration (per isolate). */
export type TokenKeys =
  | {
      algorithm: "EdDSA";
      /** Absent on a verification-only deployment (no JWT_PRIVATE_JWK). */
      signing?: { key: CryptoKey; kid: string };
      /** Every configured public key by `kid`: two during a rotation. */
      verification: Map<string, CryptoKey>;
      jwks: { keys: PublicJwk[] };
    }
  | { algorithm: "HS256"; secret: Uint8Array; jwks: { keys: PublicJwk[] } };

/** The configuration does not allow tokens (no keys, or malformed ones); names the setting, never a value. */
export class TokenKeyError extends Error {
  override name = "TokenKeyError";
}

/** The pinned algorithm: JWT_ALGORITHM, else EdDSA when any Ed25519 key is set, else HS256 with JWT_SECRET. */
export function pinnedAlgorithm(config: TokenConfig): TokenAlgorithm | undefined {
  if (config.JWT_ALGORITHM) return config.JWT_ALGORITHM;
  if (config.JWT_PUBLIC_JWKS || config.JWT_PRIVATE_JWK) return "EdDSA";
  if (config.JWT_SECRET) return "HS256";
  return undefined;
}

function publicPart(jwk: Record<string, unknown>, setting: string): PublicJwk {
  const { kty, crv, x, kid } = jwk;
  if (kty !== "OKP" || crv !== "Ed25519" || typeof x !== "string") {
    throw new TokenKeyError(`${setting} must hold Ed25519 keys (kty OKP, crv Ed25519)`);
  }
  if (typeof kid !== "string" || kid.length === 0)
    throw new TokenKeyError(`${setting}: every key needs a kid`);
  if (jwk.alg !== undefined && jwk.alg !== "EdDSA" && jwk.alg !== "Ed25519") {
    throw new TokenKeyError(`${setting}: key ${kid} is not for EdDSA`);
  }
  return { kty, crv, x, kid, alg: "EdDSA", use: "sig" };
}

async function importKeys(config: TokenConfig): Promise<TokenKeys> {
  const algorithm = pinnedAlgorithm(config);
  if (algorithm === "HS256") {
    if (!config.JWT_SECRET) throw new TokenKeyError("JWT_ALGORITHM is HS256 but JWT_SECRET is missing");
    return { algorithm, secret: new TextEncoder().encode(config.JWT_SECRET), jwks: { keys: [] } };
  }
  if (algorithm !== "EdDSA")
    throw new TokenKeyError("set JWT_PRIVATE_JWK and JWT_PUBLIC_JWKS (or JWT_SECRET)");

  const privateJwk = config.JWT_PRIVATE_JWK;
  const signingPublic = privateJwk ? publicPart(privateJwk, "JWT_PRIVATE_JWK") : undefined;
  if (privateJwk && typeof privateJwk.d !== "string")
    throw new TokenKeyError("JWT_PRIVATE_JWK has no private part");
  // The public set may be omitted when the signing key is present: its public half is derived.
  const publicKeys = config.JWT_PUBLIC_JWKS
    ? config.JWT_PUBLIC_JWKS.keys.map((jwk) => publicPart(jwk, "JWT_PUBLIC_JWKS"))
    : signingPublic
      ? [signingPublic]
      : [];
  if (publicKeys.length === 0) throw new TokenKeyError("JWT_PUBLIC_JWKS has no keys");
  if (new Set(publicKeys.map((key) => key.kid)).size !== publicKeys.length) {
    throw new TokenKeyError("JWT_PUBLIC_JWKS has two keys with the same kid");
  }
  if (
    signingPublic &&
    !publicKeys.some((key) => key.kid === signingPublic.kid && key.x === signingPublic.x)
  ) {
    throw new TokenKeyError("JWT_PUBLIC_JWKS lacks the public half of JWT_PRIVATE_JWK (same kid)");
  }

  const verification = new Map<string, CryptoKey>();
  for (const jwk of publicKeys) {
    verification.set(jwk.kid, (await importJWK(jwk as JWK, "EdDSA")) as CryptoKey);
  }
  const signing =
    privateJwk && signingPublic
      ? {
          key: (await importJWK({ ...(privateJwk as JWK), alg: "EdDSA" }, "EdDSA")) as CryptoKey,
          kid: signingPublic.kid,
        }
      : undefined;
  return { algorithm, signing, verification, jwks: { keys: publicKeys } };
}

const cache = new WeakMap<TokenConfig, Promise<TokenKeys>>();

/** The token keys of a configuration, imported on first use and then reused for the isolate's life. */
export function loadTokenKeys(config: TokenConfig): Promise<TokenKeys> {
  let keys = cache.get(config);
  if (!keys) {
    keys = importKeys(config);
    cache.set(config, keys);
  }
  return keys;
}
