/**
 * The clients against the built Worker under `wrangler dev` and the real local stack: the typed
 * TypeScript client (clients/typescript) signs up, exchanges its key once for many calls, waits out
 * Retry-After on 429 (a tier of 3 requests per 2 s) and on 503 (Redis stopped, then started), and
 * returns problems typed; the Python example (clients/python, standard library only) does the same;
 * and the reference's quick start runs as written, with curl.
 */
import { execFile, spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSchemaMeterClient } from "../../clients/typescript";
import { setupStripe } from "../../scripts/stripe-setup";
import { createStripeClient } from "../../src/adapters/stripe/sdk";
import { QUICK_START } from "../../src/reference/quick-start";
import { type LocalStack, startLocalStack } from "../support/local-stack";
import { E2E_ADMISSION_TIMEOUT_MS, startWranglerDev, type WorkerProcess } from "../support/wrangler-dev";

let stack: LocalStack;
let worker: WorkerProcess;

beforeAll(async () => {
  stack = await startLocalStack({ redis: "own" });
  worker = await startWranglerDev({
    vars: {
      ...stack.vars,
      RATE_LIMIT_TIERS: '{"free":{"limit":3,"windowSeconds":2},"pro":{"limit":100,"windowSeconds":10}}',
      ADMISSION_TIMEOUT_MS: E2E_ADMISSION_TIMEOUT_MS,
    },
  });
  // What an operator does once (`npm run stripe:setup`), so the quick start's upgrade has a price.
  const stripe = createStripeClient({
    secretKey: stack.stripe.apiKey,
    apiBase: stack.stripe.url,
    timeoutMs: 5000,
  });
  await setupStripe(stripe, {
    eventName: "api_validation",
    lookupKeys: { pro: "schema_meter_pro" },
    currency: "usd",
    unitAmountDecimal: "0.1",
  });
});

afterAll(async () => {
  await worker?.stop();
  await stack?.stop();
});

/** `bash -c command` with `env`, asynchronously (the stack's bridges run in this process). */
function bash(command: string, env: Record<string, string | undefined>) {
  return new Promise<{ status: number; stdout: string; stderr: string }>((done) => {
    execFile("bash", ["-c", command], { env, timeout: 30_000 }, (error, stdout, stderr) =>
      done({ status: error ? 1 : 0, stdout, stderr }),
    );
  });
}

describe("the reference's quick start", () => {
  it("works as written: sign up, validate with the key, upgrade", async () => {
    const blocks = [...QUICK_START.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1] ?? "");
    expect(blocks).toHaveLength(4);
    // The first block sets the base URL: here, the Worker under test.
    const env: Record<string, string | undefined> = { ...process.env, SCHEMA_METER_URL: worker.url };
    const answers: Record<string, unknown>[] = [];
    for (const block of blocks.slice(1)) {
      const lines = block.trimEnd().split("\n");
      // `export NAME="…"   # its field`: the reader copies `field` of the answer into NAME.
      const placeholder = lines.findIndex((line) => line.startsWith("export "));
      const command = (placeholder >= 0 ? lines.slice(0, placeholder) : lines).join("\n");
      const run = await bash(command, env);
      expect(run.status, `${command}\n${run.stderr}`).toBe(0);
      const answer = JSON.parse(run.stdout) as Record<string, unknown>;
      answers.push(answer);
      if (placeholder >= 0) {
        const [, name = "", field = ""] = /^export (\w+)=.*# its (\w+)$/.exec(lines[placeholder] ?? "") ?? [];
        expect(typeof answer[field], `${field} in ${run.stdout}`).toBe("string");
        env[name] = answer[field] as string;
      }
    }
    const [account, verdict, checkout] = answers;
    expect(account).toMatchObject({ tier: "free", api_key: expect.stringMatching(/^sm_/) });
    expect(verdict).toMatchObject({ valid: false, units: 1 });
    expect(checkout, JSON.stringify(checkout)).toMatchObject({ tier: "pro", url: expect.any(String) });
  });
});

/** A fetch that records every request's method and path. */
function recordingFetch() {
  const sent: string[] = [];
  const fetchImpl = ((input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    sent.push(`${request.method} ${new URL(request.url).pathname}`);
    return fetch(request);
  }) as typeof fetch;
  return { fetch: fetchImpl, sent };
}

async function signUp(email: string): Promise<string> {
  const anonymous = createSchemaMeterClient({ baseUrl: worker.url });
  const { data, error, response } = await anonymous.api.POST("/v1/signup", { body: { email } });
  expect(response.status, JSON.stringify(error)).toBe(201);
  return data!.api_key;
}

const schema = { type: "object", required: ["id"], properties: { id: { type: "integer" } } };

describe("TypeScript client", () => {
  it("exchanges the key once, waits out 429s, and types verdicts and problems", async () => {
    const apiKey = await signUp("ts-client@example.com");
    const network = recordingFetch();
    const retries: { status: number; delayMs: number }[] = [];
    const meter = createSchemaMeterClient({
      baseUrl: worker.url,
      credentials: { apiKey },
      fetch: network.fetch,
      onRetry: (retry) => retries.push(retry),
    });
    // Seven calls on a tier of 3 per 2 s: some are refused 429 and retried after Retry-After.
    for (let call = 0; call < 7; call++) {
      const { data, error } = await meter.api.POST("/v1/validate", {
        body: { schema, data: { id: call % 2 ? call : "x" } },
      });
      expect(error, JSON.stringify(error)).toBeUndefined();
      expect(data?.valid).toBe(call % 2 === 1);
    }
    expect(network.sent.filter((sent) => sent === "POST /v1/token")).toHaveLength(1);
    expect(retries.length).toBeGreaterThan(0);
    expect(retries.every((retry) => retry.status === 429 && retry.delayMs <= 2000)).toBe(true);

    await new Promise((elapsed) => setTimeout(elapsed, 2100));
    const refused = await meter.api.POST("/v1/validate", { body: { schema: { type: 12 }, data: 1 } });
    expect(refused.response.status).toBe(422);
    expect(refused.error?.code).toBe("SCHEMA_INVALID");
  });

  it("waits out a 503 while Redis is down and succeeds once it is back", async () => {
    const apiKey = await signUp("ts-client-outage@example.com");
    const retries: { status: number }[] = [];
    const meter = createSchemaMeterClient({
      baseUrl: worker.url,
      credentials: { apiKey },
      maxRetries: 20,
      onRetry: (retry) => retries.push(retry),
    });
    expect(await meter.credential()).toBeDefined();
    await stack.redis.stop();
    const call = meter.api.POST("/v1/validate", { body: { schema, data: { id: 1 } } });
    await new Promise((elapsed) => setTimeout(elapsed, 2500));
    await stack.redis.start();
    const { data, error } = await call;
    expect(error, JSON.stringify(error)).toBeUndefined();
    expect(data?.valid).toBe(true);
    expect(retries.some((retry) => retry.status === 503)).toBe(true);
  });

  it("a wrong API key comes back as the token endpoint's problem, not a crash", async () => {
    const meter = createSchemaMeterClient({
      baseUrl: worker.url,
      credentials: { apiKey: `sm_0000000000_${"A".repeat(43)}` },
    });
    const { error, response } = await meter.api.POST("/v1/validate", { body: { schema, data: {} } });
    expect(response.status).toBe(401);
    expect(error?.code).toBe("API_KEY_INVALID");
  });
});

const python = spawnSync("python3", ["--version"]).status === 0;

describe("Python example", () => {
  it.skipIf(!python)("signs up, validates with one token exchange, and waits out 429s", async () => {
    await new Promise((elapsed) => setTimeout(elapsed, 2100));
    // Asynchronously: the local stack's Redis and Postgres bridges run in this process.
    const run = await new Promise<{ status: number; stdout: string; stderr: string }>((done) => {
      execFile(
        "python3",
        [resolve(import.meta.dirname, "../../clients/python/example.py")],
        {
          env: { ...process.env, SCHEMA_METER_URL: worker.url, SCHEMA_METER_EMAIL: "py-client@example.com" },
          timeout: 60_000,
        },
        (error, stdout, stderr) => done({ status: error ? 1 : 0, stdout, stderr }),
      );
    });
    expect(run.status, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout.trim().split("\n").at(-1) ?? "{}") as {
      verdicts: boolean[];
      token_exchanges: number;
      retries: { status: number; delay_s: number }[];
      problem: { status: number; code: string };
    };
    expect(report.verdicts).toEqual([false, true, false, true, false, true, false]);
    expect(report.token_exchanges).toBe(1);
    expect(report.retries.length).toBeGreaterThan(0);
    expect(report.retries.every((retry) => retry.status === 429)).toBe(true);
    expect(report.problem).toEqual({ status: 422, code: "SCHEMA_INVALID" });
  });
});
