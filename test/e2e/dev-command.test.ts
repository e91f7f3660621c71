/**
 * `npm run dev`, as the README promises it: one command, no cloud accounts, the API on PORT with a
 * ready line, configuration names from the environment passed through, and Ctrl-C stops everything.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "../support/ports";

const ROOT = resolve(import.meta.dirname, "../..");
let child: ChildProcess | undefined;

afterAll(() => {
  if (child && child.exitCode === null) child.kill("SIGKILL");
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
      env: { ...process.env, PORT: String(port), RATE_LIMIT_TIERS: JSON.stringify(tiers), FORCE_COLOR: "0" },
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
    expect(output).toContain("from your environment: RATE_LIMIT_TIERS");

    const base = `http://127.0.0.1:${port}`;
    const ready = await fetch(`${base}/health/ready`);
    expect(ready.status, await ready.clone().text()).toBe(200);
    // The passed-through tiers reach the Worker: a new free account is limited to 7.
    const signup = await fetch(`${base}/v1/signup`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "CF-Connecting-IP": "192.0.2.77" },
      body: JSON.stringify({ email: `dev-${Date.now()}@example.com` }),
    });
    const { api_key: apiKey } = (await signup.json()) as { api_key: string };
    const minted = await fetch(`${base}/v1/token`, {
      method: "POST",
      headers: { Authorization: `Bearer ${apiKey}` },
    });
    const { token } = (await minted.json()) as { token: string };
    const account = await fetch(`${base}/v1/account`, { headers: { Authorization: `Bearer ${token}` } });
    expect(account.headers.get("RateLimit-Policy")).toBe('"free";q=7;w=10');

    dev.kill("SIGINT");
    expect(await exited(dev)).toBe(0);
    await expect(fetch(`${base}/health`, { signal: AbortSignal.timeout(2000) })).rejects.toThrow();
  });
});
