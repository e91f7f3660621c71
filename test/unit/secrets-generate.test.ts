/**
 * `npm run secrets:generate`, as the runbook uses it: the secrets it prints are accepted by the
 * configuration and issue tokens that verify; a rotation keeps the previous public keys so tokens
 * of the old key still verify; `--json` feeds `wrangler secret bulk`; nothing is written to disk.
 */
import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { generateSecrets } from "../../scripts/secrets-generate";
import { loadTokenKeys } from "../../src/access/token-keys";
import { issueAccessToken, verifyAccessToken } from "../../src/access/tokens";
import { parseConfig } from "../../src/config";

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, "../..");

const cli = (args: string[]) =>
  run(process.execPath, ["--import", "tsx", "scripts/secrets-generate.ts", ...args], {
    cwd: ROOT,
    timeout: 30_000,
  });

/** The Worker's configuration with these secrets (and placeholders for the unrelated required settings). */
function configWith(secrets: { [name: string]: string | undefined }) {
  return parseConfig({
    UPSTASH_REDIS_REST_URL: "https://example.upstash.io",
    UPSTASH_REDIS_REST_TOKEN: "token",
    SUPABASE_URL: "https://example.supabase.co",
    SUPABASE_SERVICE_ROLE_KEY: "service-role",
    STRIPE_SECRET_KEY: "sk_test_x",
    ...secrets,
  });
}

const subject = { accountId: "acct", tier: "pro", stripeCustomerId: null, apiKeyId: "key" };

describe("npm run secrets:generate", () => {
  it("prints NAME='value' lines the configuration accepts, whose keys issue tokens that verify", async () => {
    const { stdout, stderr } = await cli([]);
    expect(stderr).toContain("Shown once and stored nowhere");
    const lines = stdout.trim().split("\n");
    expect(lines.map((line) => line.split("=")[0])).toEqual([
      "JWT_PRIVATE_JWK",
      "JWT_PUBLIC_JWKS",
      "ADMIN_TOKEN",
    ]);
    const secrets = Object.fromEntries(lines.map((line) => /^(\w+)='(.*)'$/.exec(line)!.slice(1, 3)));
    const config = configWith(secrets);
    expect(config.ADMIN_TOKEN).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const publicKeys = JSON.parse(secrets.JWT_PUBLIC_JWKS!).keys as Record<string, unknown>[];
    expect(publicKeys).toHaveLength(1);
    expect(publicKeys[0]).not.toHaveProperty("d");
    expect(publicKeys[0]).toMatchObject({ kty: "OKP", crv: "Ed25519", alg: "EdDSA", use: "sig" });
    expect(JSON.parse(secrets.JWT_PRIVATE_JWK!).kid).toBe(publicKeys[0]!.kid);

    const keys = await loadTokenKeys(config);
    const { token } = await issueAccessToken(keys, subject, { ttlSeconds: 60 });
    expect(await verifyAccessToken(keys, token)).toMatchObject({ ok: true });
  });

  it("--json prints one object for `wrangler secret bulk`, and nothing is written to the repository", async () => {
    const before = (await run("git", ["status", "--porcelain", "--ignored"], { cwd: ROOT })).stdout;
    const { stdout } = await cli(["--json"]);
    expect(Object.keys(JSON.parse(stdout))).toEqual(["JWT_PRIVATE_JWK", "JWT_PUBLIC_JWKS", "ADMIN_TOKEN"]);
    expect((await run("git", ["status", "--porcelain", "--ignored"], { cwd: ROOT })).stdout).toBe(before);
  });

  it("a rotation publishes the new key first and keeps the old ones: old tokens still verify", async () => {
    const current = await generateSecrets({ only: "jwt" });
    const currentKeys = await loadTokenKeys(configWith(current));
    const { token: oldToken } = await issueAccessToken(currentKeys, subject, { ttlSeconds: 60 });

    const { stdout } = await cli(["--only", "jwt", "--previous-jwks", current.JWT_PUBLIC_JWKS!, "--json"]);
    const rotated = JSON.parse(stdout) as Record<string, string>;
    expect(rotated).not.toHaveProperty("ADMIN_TOKEN");
    const kids = (JSON.parse(rotated.JWT_PUBLIC_JWKS!).keys as { kid: string }[]).map((key) => key.kid);
    expect(kids).toEqual([
      JSON.parse(rotated.JWT_PRIVATE_JWK!).kid,
      JSON.parse(current.JWT_PRIVATE_JWK!).kid,
    ]);

    const rotatedKeys = await loadTokenKeys(configWith(rotated));
    expect(await verifyAccessToken(rotatedKeys, oldToken)).toMatchObject({ ok: true });
    const { token: newToken } = await issueAccessToken(rotatedKeys, subject, { ttlSeconds: 60 });
    expect(await verifyAccessToken(rotatedKeys, newToken)).toMatchObject({ ok: true });
    // The old deployment does not know the new key: why the public set goes out before the signing key.
    expect(await verifyAccessToken(currentKeys, newToken)).toMatchObject({
      ok: false,
      code: "TOKEN_INVALID",
    });
  });

  it("refuses a private key passed as the previous JWKS", async () => {
    const current = await generateSecrets({ only: "jwt" });
    const leaked = JSON.stringify({ keys: [JSON.parse(current.JWT_PRIVATE_JWK!)] });
    await expect(cli(["--only", "jwt", "--previous-jwks", leaked])).rejects.toMatchObject({ code: 2 });
  });
});
