/**
 * The operator scripts `npm run keys` and `npm run token`, run as processes against the same real
 * Postgres and Redis as the app: what they print works against the API, and `keys revoke`
 * refuses the key's live tokens on the next request.
 */
import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AccessHarness, problemOf, startAccessHarness } from "../harness/access";

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, "../../..");
let h: AccessHarness;

beforeAll(async () => {
  h = await startAccessHarness();
});
afterAll(async () => {
  await h?.stop();
});

async function script(name: "keys" | "token", args: string[]) {
  const { stdout, stderr } = await run(process.execPath, ["--import", "tsx", `scripts/${name}.ts`, ...args], {
    cwd: ROOT,
    timeout: 30_000,
    env: {
      ...process.env,
      DATABASE_URL: h.stack.databaseUrl,
      UPSTASH_REDIS_REST_URL: h.stack.vars.UPSTASH_REDIS_REST_URL,
      UPSTASH_REDIS_REST_TOKEN: h.stack.vars.UPSTASH_REDIS_REST_TOKEN,
      JWT_PRIVATE_JWK: h.stack.vars.JWT_PRIVATE_JWK,
      JWT_PUBLIC_JWKS: h.stack.vars.JWT_PUBLIC_JWKS,
    },
  });
  return { stdout: stdout.trim(), stderr };
}

const bearer = (token: string) => ({ headers: { Authorization: `Bearer ${token}` } });

describe("npm run keys / npm run token", () => {
  it("create prints a working key once; list shows it without the secret; revoke cuts off live tokens", async () => {
    const created = await script("keys", ["create", "--email", "ops@example.com", "--tier", "pro"]);
    expect(created.stdout).toMatch(/^sm_[a-z0-9]{10}_[A-Za-z0-9_-]{43}$/);
    const apiKey = created.stdout;
    const minted = await h.request("/v1/token", { method: "POST", ...bearer(apiKey) });
    expect(minted.status).toBe(200);
    const { token, tier } = (await minted.json()) as { token: string; tier: string };
    expect(tier).toBe("pro");

    const listed = await script("keys", ["list", "--email", "ops@example.com"]);
    expect(listed.stdout).toContain(apiKey.slice(0, 13));
    expect(listed.stdout).toContain("active");
    expect(listed.stdout).not.toContain(apiKey);

    expect((await h.request("/v1/account", bearer(token))).status).toBe(200);
    expect((await h.request("/v1/account", bearer(apiKey))).status).toBe(200);
    const revoked = await script("keys", ["revoke", apiKey.slice(0, 13)]);
    expect(revoked.stdout).toMatch(/^revoked sm_/);
    expect(await problemOf(await h.request("/v1/account", bearer(token)))).toMatchObject({
      code: "TOKEN_REVOKED",
    });
    expect((await h.request("/v1/token", { method: "POST", ...bearer(apiKey) })).status).toBe(401);
    // The key itself too, at once (its entry in Redis says revoked).
    expect(await problemOf(await h.request("/v1/account", bearer(apiKey)))).toMatchObject({
      code: "API_KEY_INVALID",
    });
  });

  it("token --tier prints a token for a local account on that tier", async () => {
    const { stdout } = await script("token", ["--tier", "pro"]);
    expect(stdout.split(".")).toHaveLength(3);
    const response = await h.request("/v1/account", bearer(stdout));
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ email: "local-pro@localhost", tier: "pro" });
    expect(response.headers.get("RateLimit-Policy")).toBe('"pro";q=100;w=10');
  });

  it("usage errors exit non-zero", async () => {
    await expect(script("keys", ["frobnicate"])).rejects.toMatchObject({ code: 2 });
    await expect(script("token", [])).rejects.toMatchObject({ code: 2 });
  });
});
