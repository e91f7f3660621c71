/**
 * End to end: the built Worker under `wrangler dev` (real workerd, eval forbidden as in
 * production) against real Redis and Postgres behind the bridges, and the fake Stripe.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalStack, startLocalStack } from "../support/local-stack";
import { E2E_ADMISSION_TIMEOUT_MS, startWranglerDev, type WorkerProcess } from "../support/wrangler-dev";

let stack: LocalStack;
let worker: WorkerProcess;

beforeAll(async () => {
  stack = await startLocalStack({ redis: "own" });
  worker = await startWranglerDev({
    vars: { ...stack.vars, ADMISSION_TIMEOUT_MS: E2E_ADMISSION_TIMEOUT_MS },
  });
});

afterAll(async () => {
  await worker?.stop();
  await stack?.stop();
});

const api = (path: string, init?: RequestInit) => fetch(`${worker.url}${path}`, init);

async function readiness() {
  const response = await api("/health/ready");
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe("foundation, end to end", () => {
  it("is alive and ready against real Redis and Postgres", async () => {
    expect((await api("/health")).status).toBe(200);
    const { status, body } = await readiness();
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body).toMatchObject({ status: "ready", checks: { redis: { ok: true }, postgres: { ok: true } } });
  });

  it("readiness names Redis while it is stopped and recovers when it is back", async () => {
    await stack.redis.stop();
    try {
      const down = await readiness();
      expect(down.status).toBe(503);
      expect(down.body).toMatchObject({ code: "DEPENDENCY_UNAVAILABLE", failing: ["redis"] });
      expect(down.body.detail).toBe("Not ready: redis unavailable");
    } finally {
      await stack.redis.start();
    }
    const up = await readiness();
    expect(up.status, JSON.stringify(up.body)).toBe(200);
  });

  it("every error is problem+json with a request id and no stack trace", async () => {
    const cases: Array<[string, RequestInit, number, string]> = [
      ["/nope", {}, 404, "NOT_FOUND"],
      ["/health", { method: "PATCH" }, 405, "METHOD_NOT_ALLOWED"],
      ["/health", { method: "POST", body: "x".repeat(4 * 1024 * 1024 + 1) }, 413, "PAYLOAD_TOO_LARGE"],
    ];
    for (const [path, init, status, code] of cases) {
      const response = await api(path, init);
      expect(response.status, `${init.method ?? "GET"} ${path}`).toBe(status);
      expect(response.headers.get("Content-Type")).toBe("application/problem+json");
      const text = await response.text();
      expect(text).not.toMatch(/\bat .+:\d+:\d+|stack/i);
      const body = JSON.parse(text) as Record<string, unknown>;
      expect(body).toMatchObject({ status, code });
      expect(body.request_id).toBe(response.headers.get("X-Request-Id"));
    }
  });

  it("logs one JSON line per request, searchable by request id, without secrets", async () => {
    const response = await api("/health", { headers: { "X-Request-Id": "e2e-log-probe" } });
    expect(response.headers.get("X-Request-Id")).toBe("e2e-log-probe");
    await expect.poll(() => worker.output(), { timeout: 5000 }).toContain('"request_id":"e2e-log-probe"');
    const lines = worker
      .output()
      .split("\n")
      .filter((entry) => entry.includes('"request_id":"e2e-log-probe"'));
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? "{}")).toMatchObject({
      msg: "request",
      method: "GET",
      route: "/health",
      status: 200,
    });
    const output = worker.output();
    for (const secret of [
      stack.secrets.redisToken,
      stack.secrets.serviceRoleKey,
      stack.secrets.stripeSecretKey,
    ]) {
      expect(output).not.toContain(secret);
    }
  });
});
