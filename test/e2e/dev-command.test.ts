/**
 * `npm run dev`, as the README promises it: one command, no cloud accounts, the API on PORT with a
 * ready line, configuration names from the environment passed through, the billing loop working
 * against the fake Stripe (checkout, pay on its page, the existing token gets the paid limits), the
 * operator scripts finding the running stack by themselves, and Ctrl-C stops everything.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { DEV_STACK_FILE } from "../../scripts/lib/dev-stack";
import { freePort } from "../support/ports";
import { E2E_ADMISSION_TIMEOUT_MS } from "../support/wrangler-dev";

const ROOT = resolve(import.meta.dirname, "../..");
const run = promisify(execFile);

/** An operator script as a person runs it next to `npm run dev`: no connection settings by hand. */
async function operatorScript(name: string, args: string[]) {
  const env = { ...process.env };
  for (const key of Object.keys(env)) {
    if (/^(STRIPE_|UPSTASH_|DATABASE_URL$|REDIS_URL$)/.test(key)) delete env[key];
  }
  const { stdout, stderr } = await run(process.execPath, ["--import", "tsx", `scripts/${name}.ts`, ...args], {
    cwd: ROOT,
    timeout: 30_000,
    env,
  });
  return { stdout: stdout.trim(), stderr };
}
let child: ChildProcess | undefined;

afterAll(async () => {
  if (!child || child.exitCode !== null) return;
  // A test that failed half-way: dev stops what it started on SIGINT, as on Ctrl-C (SIGKILL would
  // leave its wrangler and workerd running); SIGKILL only if it has not exited within 15 s.
  child.kill("SIGINT");
  const stopped = await Promise.race([
    exited(child),
    new Promise((done) => setTimeout(done, 15_000, "late")),
  ]);
  if (stopped === "late") child.kill("SIGKILL");
});

const exited = (process: ChildProcess) =>
  new Promise<number | null>((done) => {
    if (process.exitCode !== null) done(process.exitCode);
    else process.once("exit", (code) => done(code));
  });

describe("npm run dev", () => {
  it("serves the API on PORT, passes settings through, and stops everything on Ctrl-C", async () => {
    const port = await freePort();
    const tiers = { free: { limit: 7, windowSeconds: 10 }, pro: { limit: 100, windowSeconds: 10 } };
    const dev = spawn(resolve(ROOT, "node_modules/.bin/tsx"), ["scripts/dev.ts"], {
      cwd: ROOT,
      env: {
        ...process.env,
        PORT: String(port),
        RATE_LIMIT_TIERS: JSON.stringify(tiers),
        ADMISSION_TIMEOUT_MS: E2E_ADMISSION_TIMEOUT_MS,
        FORCE_COLOR: "0",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child = dev;
    let output = "";
    dev.stdout?.on("data", (chunk) => {
      output += String(chunk);
    });
    dev.stderr?.on("data", (chunk) => {
      output += String(chunk);
    });

    await expect
      .poll(() => output, { timeout: 90_000, interval: 250 })
      .toMatch(new RegExp(`Ready in [\\d.]+s: http://127\\.0\\.0\\.1:${port}`));
    expect(output).toMatch(/from your environment: .*RATE_LIMIT_TIERS/);

    const base = `http://127.0.0.1:${port}`;
    const ready = await fetch(`${base}/health/ready`);
    expect(ready.status, await ready.clone().text()).toBe(200);
    // dev keeps its Redis (the shared one) across runs, and sign-ups are limited per client network
    // (5 an hour): each run signs up from a /64 of its own, or the sixth run within the hour fails.
    const clientIp = `2001:db8:${randomBytes(2).toString("hex")}:${randomBytes(2).toString("hex")}::1`;
    // The passed-through tiers reach the Worker: a new free account is limited to 7.
    const signup = await fetch(`${base}/v1/signup`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "CF-Connecting-IP": clientIp },
      body: JSON.stringify({ email: `dev-${Date.now()}@example.com` }),
    });
    expect(signup.status, await signup.clone().text()).toBe(201);
    const { api_key: apiKey } = (await signup.json()) as { api_key: string };
    const minted = await fetch(`${base}/v1/token`, {
      method: "POST",
      headers: { Authorization: `Bearer ${apiKey}`, "CF-Connecting-IP": clientIp },
    });
    const { token } = (await minted.json()) as { token: string };
    const auth = { Authorization: `Bearer ${token}` };
    const account = await fetch(`${base}/v1/account`, { headers: auth });
    expect(account.headers.get("RateLimit-Policy")).toBe('"free";q=7;w=10');

    // The billing loop with no extra command: checkout, "pay" on the fake's page, and the same
    // token gets the pro limits once the fake's webhook has reached the Worker.
    const checkout = await fetch(`${base}/v1/billing/checkout`, {
      method: "POST",
      headers: { ...auth, "Content-Type": "application/json" },
      body: JSON.stringify({ tier: "pro" }),
    });
    expect(checkout.status, await checkout.clone().text()).toBe(200);
    const { url: checkoutUrl } = (await checkout.json()) as { url: string };
    expect((await fetch(checkoutUrl)).status).toBe(200);
    const paid = await fetch(checkoutUrl, { method: "POST", redirect: "manual" });
    expect(paid.status).toBe(303);
    await expect
      .poll(
        async () => (await fetch(`${base}/v1/account`, { headers: auth })).headers.get("RateLimit-Policy"),
        { timeout: 15_000, interval: 200 },
      )
      .toBe('"pro";q=100;w=10');

    // Operator scripts find the running stack: stripe:setup finds what dev set up on the fake,
    // reconcile reads the dev database, and keys revoke reaches the Redis the Worker reads.
    const setup = await operatorScript("stripe-setup", []);
    expect(setup.stderr).toContain("using the fake Stripe of the running npm run dev");
    expect(setup.stderr).toMatch(/meter mtr_\S+ \(api_validation\) exists/);
    expect(setup.stderr).toMatch(
      /pro: product schema_meter_pro, price price_\S+ \(lookup key schema_meter_pro\) exists/,
    );
    const reconcile = await operatorScript("reconcile", ["--json"]);
    expect(JSON.parse(reconcile.stdout)).toMatchObject({ balanced: true });
    const revoked = await operatorScript("keys", ["revoke", apiKey.slice(0, 13)]);
    expect(revoked.stdout).toMatch(/^revoked sm_/);
    const refused = await fetch(`${base}/v1/account`, { headers: auth });
    expect(((await refused.json()) as { code: string }).code).toBe("TOKEN_REVOKED");

    dev.kill("SIGINT");
    expect(await exited(dev)).toBe(0);
    expect(existsSync(DEV_STACK_FILE), "dev removes its stack file when it stops").toBe(false);
    await expect(fetch(`${base}/health`, { signal: AbortSignal.timeout(2000) })).rejects.toThrow();
  });
});
