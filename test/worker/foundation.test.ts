/**
 * The Worker's entry point (src/index.ts) inside workerd, configured against the real local
 * stack (Redis and Postgres behind their bridges) started by the project's global setup.
 */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";

async function problem(response: Response) {
  expect(response.headers.get("Content-Type")).toBe("application/problem+json");
  const body = (await response.json()) as Record<string, unknown>;
  expect(body.request_id).toBe(response.headers.get("X-Request-Id"));
  expect(JSON.stringify(body)).not.toMatch(/\bat .+:\d+:\d+|stack/i);
  return body;
}

describe("the Worker in workerd", () => {
  it("GET /health is alive", async () => {
    const response = await SELF.fetch("http://api.test/health");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok" });
  });

  it("GET /health/ready reaches real Redis and Postgres", async () => {
    const response = await SELF.fetch("http://api.test/health/ready");
    const body = (await response.json()) as { status: string; checks: Record<string, { ok: boolean }> };
    expect(response.status, JSON.stringify(body)).toBe(200);
    expect(body.checks.redis?.ok).toBe(true);
    expect(body.checks.postgres?.ok).toBe(true);
  });

  it("answers unknown routes, wrong methods and oversized bodies with problem+json", async () => {
    const missing = await SELF.fetch("http://api.test/v2/nothing");
    expect(missing.status).toBe(404);
    expect(await problem(missing)).toMatchObject({ code: "NOT_FOUND" });

    const wrongMethod = await SELF.fetch("http://api.test/health/ready", { method: "PUT" });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get("Allow")).toBe("GET, HEAD");
    expect(await problem(wrongMethod)).toMatchObject({ code: "METHOD_NOT_ALLOWED" });

    const huge = await SELF.fetch("http://api.test/health", {
      method: "POST",
      // Past the default MAX_BODY_BYTES (4 MiB).
      body: "x".repeat(5 * 1024 * 1024),
    });
    expect(huge.status).toBe(413);
    expect(await problem(huge)).toMatchObject({ code: "PAYLOAD_TOO_LARGE" });
  });

  it("echoes the caller's request id", async () => {
    const response = await SELF.fetch("http://api.test/health", { headers: { "X-Request-Id": "trace-123" } });
    expect(response.headers.get("X-Request-Id")).toBe("trace-123");
  });

  it("serves the OpenAPI document and the docs page", async () => {
    const document = (await (await SELF.fetch("http://api.test/openapi.json")).json()) as { openapi: string };
    expect(document.openapi).toBe("3.1.0");
    expect((await SELF.fetch("http://api.test/docs")).headers.get("Content-Type")).toMatch(/^text\/html/);
  });
});
