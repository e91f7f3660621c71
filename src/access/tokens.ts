import { errors, type JWTHeaderParameters, jwtVerify, SignJWT } from "jose";
import { z } from "zod";
import type { TokenKeys } from "./token-keys";

export const TOKEN_ISSUER = "schema-meter";
export const TOKEN_AUDIENCE = "schema-meter-api";
/** Clock skew allowed on `exp` and `nbf` between the token service and any edge isolate. */
export const CLOCK_TOLERANCE_SECONDS = 30;
/**
 * The longest lifetime a token may claim (`exp - iat`): the upper bound of TOKEN_TTL_SECONDS. A
 * longer one was not issued by this service as configured (a leaked signing key would otherwise
 * mint tokens that outlive any rotation).
 */
export const MAX_TOKEN_LIFETIME_SECONDS = 3600;

const BASE64URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/**
 * A JWS segment in its one canonical spelling: base64url, no padding, and the unused low bits of
 * the last character zero. Decoders ignore those bits, so without this one token would have
 * several spellings that all verify (and each would be a separate entry in the verified-token cache).
 */
function isCanonicalSegment(segment: string): boolean {
  if (!/^[A-Za-z0-9_-]+$/.test(segment)) return false;
  const tail = segment.length % 4;
  if (tail === 1) return false;
  if (tail === 0) return true;
  const last = BASE64URL_ALPHABET.indexOf(segment.charAt(segment.length - 1));
  return (last & (tail === 2 ? 0b1111 : 0b11)) === 0;
}

/** The claims of an access token, as verified. */
const claimsSchema = z.object({
  /** Account id. */
  sub: z.string().min(1).max(128),
  tier: z.string().regex(/^[a-z0-9_-]{1,32}$/),
  /** Stripe customer id; null for accounts without billing (free). */
  cus: z.string().min(1).max(255).nullable(),
  /** Id of the API key the token was minted from (revoking the key revokes its tokens). */
  akid: z.string().min(1).max(128).nullable(),
  jti: z.string().min(1).max(128),
  iat: z.number().int(),
  exp: z.number().int(),
});

export type AccessClaims = z.infer<typeof claimsSchema>;

export interface TokenSubject {
  accountId: string;
  tier: string;
  stripeCustomerId: string | null;
  apiKeyId: string | null;
}

export interface IssuedToken {
  token: string;
  /** Unix seconds. */
  expiresAt: number;
  claims: AccessClaims;
}

/** Signs a token for `subject` valid `ttlSeconds` from `now`. Throws if these keys cannot sign. */
export async function issueAccessToken(
  keys: TokenKeys,
  subject: TokenSubject,
  { ttlSeconds, now = new Date() }: { ttlSeconds: number; now?: Date },
): Promise<IssuedToken> {
  const iat = Math.floor(now.getTime() / 1000);
  const claims: AccessClaims = {
    sub: subject.accountId,
    tier: subject.tier,
    cus: subject.stripeCustomerId,
    akid: subject.apiKeyId,
    jti: crypto.randomUUID(),
    iat,
    exp: iat + ttlSeconds,
  };
  const jwt = new SignJWT(claims).setIssuer(TOKEN_ISSUER).setAudience(TOKEN_AUDIENCE);
  let token: string;
  if (keys.algorithm === "HS256") {
    token = await jwt.setProtectedHeader({ alg: "HS256", typ: "JWT" }).sign(keys.secret);
  } else {
    if (!keys.signing)
      throw new Error("no JWT_PRIVATE_JWK: this deployment can verify tokens but not issue them");
    token = await jwt
      .setProtectedHeader({ alg: "EdDSA", typ: "JWT", kid: keys.signing.kid })
      .sign(keys.signing.key);
  }
  return { token, expiresAt: claims.exp, claims };
}

export type TokenVerdict =
  | { ok: true; claims: AccessClaims }
  | { ok: false; code: "TOKEN_EXPIRED" | "TOKEN_INVALID"; reason: string };

class RejectedHeader extends Error {}

/**
 * Verifies a token locally. The algorithm comes from the keys (configuration), never from the
 * token: `alg: none`, an HS256 token on an EdDSA deployment (e.g. one "signed" with the public
 * key) and vice versa are invalid. EdDSA tokens must name a configured `kid`.
 */
export async function verifyAccessToken(
  keys: TokenKeys,
  token: string,
  { now = new Date() }: { now?: Date } = {},
): Promise<TokenVerdict> {
  const segments = token.split(".");
  if (segments.length !== 3 || !segments.every(isCanonicalSegment)) {
    return { ok: false, code: "TOKEN_INVALID", reason: "not a canonical compact JWS" };
  }
  const options = {
    algorithms: [keys.algorithm],
    issuer: TOKEN_ISSUER,
    audience: TOKEN_AUDIENCE,
    clockTolerance: CLOCK_TOLERANCE_SECONDS,
    currentDate: now,
    requiredClaims: ["exp", "iat", "jti", "sub"],
  };
  try {
    const { payload } =
      keys.algorithm === "HS256"
        ? await jwtVerify(token, keys.secret, options)
        : await jwtVerify(
            token,
            (header: JWTHeaderParameters) => {
              if (header.alg !== "EdDSA") throw new RejectedHeader(`alg ${String(header.alg)} not allowed`);
              const key = header.kid === undefined ? undefined : keys.verification.get(header.kid);
              if (!key) throw new RejectedHeader(header.kid === undefined ? "no kid" : "unknown kid");
              return key;
            },
            options,
          );
    const claims = claimsSchema.safeParse(payload);
    if (!claims.success) return { ok: false, code: "TOKEN_INVALID", reason: "claims malformed" };
    const { iat, exp } = claims.data;
    if (exp - iat > MAX_TOKEN_LIFETIME_SECONDS || exp <= iat) {
      return { ok: false, code: "TOKEN_INVALID", reason: "lifetime out of bounds" };
    }
    if (iat > now.getTime() / 1000 + CLOCK_TOLERANCE_SECONDS) {
      return { ok: false, code: "TOKEN_INVALID", reason: "issued in the future" };
    }
    return { ok: true, claims: claims.data };
  } catch (error) {
    if (error instanceof errors.JWTExpired) return { ok: false, code: "TOKEN_EXPIRED", reason: "expired" };
    if (error instanceof RejectedHeader) return { ok: false, code: "TOKEN_INVALID", reason: error.message };
    if (error instanceof errors.JOSEError) return { ok: false, code: "TOKEN_INVALID", reason: error.code };
    throw error;
  }
}
