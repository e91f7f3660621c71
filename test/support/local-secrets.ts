/**
 * Secrets and keys for local runs: generated once, never committed. `npm run dev` keeps them in
 * `.local/dev-secrets.json` (git-ignored) so tokens survive restarts; tests generate fresh ones.
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { exportJWK, generateKeyPair, SignJWT } from "jose";

export interface LocalSecrets {
  /** Bearer token of the local Upstash-compatible Redis bridge. */
  redisToken: string;
  /** HS256 secret of the local PostgREST-compatible bridge (Supabase's JWT secret). */
  postgrestJwtSecret: string;
  /** A `service_role` JWT signed with that secret: the Worker's SUPABASE_SERVICE_ROLE_KEY. */
  serviceRoleKey: string;
  adminToken: string;
  stripeSecretKey: string;
  stripeWebhookSecret: string;
  /** Ed25519 signing key of the token service (JWK with `kid`, `alg: EdDSA`). */
  jwtPrivateJwk: Record<string, unknown>;
  jwtPublicJwks: { keys: Record<string, unknown>[] };
}

const token = (bytes: number) => randomBytes(bytes).toString("base64url");

export async function generateLocalSecrets(): Promise<LocalSecrets> {
  const postgrestJwtSecret = token(48);
  const serviceRoleKey = await new SignJWT({ role: "service_role", iss: "supabase-local" })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuedAt()
    .setExpirationTime("10y")
    .sign(new TextEncoder().encode(postgrestJwtSecret));
  const { publicKey, privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
  const kid = `local-${token(6)}`;
  const jwtPrivateJwk = { ...(await exportJWK(privateKey)), kid, alg: "EdDSA", use: "sig" };
  const jwtPublicJwks = { keys: [{ ...(await exportJWK(publicKey)), kid, alg: "EdDSA", use: "sig" }] };
  return {
    redisToken: token(32),
    postgrestJwtSecret,
    serviceRoleKey,
    adminToken: token(32),
    stripeSecretKey: `sk_test_local_${token(18)}`,
    stripeWebhookSecret: `whsec_local_${token(24)}`,
    jwtPrivateJwk,
    jwtPublicJwks,
  };
}

/** Where `npm run dev` and the operator scripts keep the local secrets (git-ignored). */
export const DEV_SECRETS_FILE = resolve(import.meta.dirname, "../../.local/dev-secrets.json");

/** The dev secrets, created (owner-readable only) on first use. */
export async function loadDevSecrets(): Promise<LocalSecrets> {
  if (existsSync(DEV_SECRETS_FILE))
    return JSON.parse(await readFile(DEV_SECRETS_FILE, "utf8")) as LocalSecrets;
  const secrets = await generateLocalSecrets();
  await mkdir(dirname(DEV_SECRETS_FILE), { recursive: true });
  await writeFile(DEV_SECRETS_FILE, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  return secrets;
}
