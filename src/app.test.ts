import { Hono } from "hono";
import { afterEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { AccessRefusal } from "./access/access-refusal";
import { unconfiguredEmailSender } from "./adapters/email";
import { createUnreachableRedisAdapter } from "./adapters/redis";
import { createUnreachableStripeAdapter } from "./adapters/stripe";
import { newApp, renderError } from "./app";
import type { AppBindings, Env } from "./env";
import { jsonBody, requireJson } from "./lib/json-body";
import { requestId } from "./middleware/request-id";
import { createRegistryResolver } from "./registry/resolver";
import type { Services } from "./services";
import { createSchemaFetcher } from "./validation/schema-fetcher";
import { createValidationService, DEFAULT_VALIDATION_LIMITS, ValidationRefusal } from "./validation/service";

const env: Env = {
  UPSTASH_REDIS_REST_URL: "https://redis.example",
  UPSTASH_REDIS_REST_TOKEN: "redis-token-value",
  SUPABASE_URL: "https://db.example",
  SUPABASE_SERVICE_ROLE_KEY: "service-role-secret-value",
  STRIPE_SECRET_KEY: "sk_test_secret_value",
  JWT_SECRET: "a-test-secret-of-at-least-32-characters",
  MAX_BODY_BYTES: "2048",
};

function fakeServices(
  overrides: { redisPing?: () => Promise<void>; rpc?: () => Promise<unknown> } = {},
): Services {
  const db = { rpc: (overrides.rpc ?? (async () => ({ ok: true }))) as Services["db"]["rpc"] };
  return {
    redis: { ...createUnreachableRedisAdapter(), ping: overrides.redisPing ?? (async () => {}) },
    db,
    registry: createRegistryResolver({ db, latestTtlSeconds: 5 }),
    stripe: { ...createUnreachableStripeAdapter(), reportMeterEvent: async () => {} },
    email: unconfiguredEmailSender,
    validation: createValidationService({
      fetchSchema: createSchemaFetcher(),
      limits: DEFAULT_VALIDATION_LIMITS,
      cache: { maxEntries: 10, maxBytes: 1_000_000 },
    }),
  };
}

const appWith = (services = fakeServices()) => newApp({ services: () => services });

async function problem(response: Response) {
  expect(response.headers.get("Content-Type")).toBe("application/problem+json");
  const body = (await response.json()) as Record<string, unknown>;
  expect(body.request_id).toBe(response.headers.get("X-Request-Id"));
  expect(body.status).toBe(response.status);
  expect(JSON.stringify(body)).not.toMatch(/at .+\.(ts|js):\d+|stack/i);
  return body;
}

afterEach(() => vi.restoreAllMocks());

describe("request ids", () => {
  it("generates one when absent and echoes an acceptable one", async () => {
    const app = appWith();
    const generated = await app.request("/health", {}, env);
    expect(generated.headers.get("X-Request-Id")).toMatch(/^req_[0-9a-f]{32}$/);
    const echoed = await app.request("/health", { headers: { "X-Request-Id": "client-id.42" } }, env);
    expect(echoed.headers.get("X-Request-Id")).toBe("client-id.42");
  });

  it("replaces an id that is unsafe to log or echo", async () => {
    const response = await appWith().request(
      "/health",
      { headers: { "X-Request-Id": "a\u00e9<script>" } },
      env,
    );
    expect(response.headers.get("X-Request-Id")).toMatch(/^req_/);
  });
});

describe("errors are problem+json", () => {
  it("404 for an unknown route", async () => {
    const response = await appWith().request("/nowhere", {}, env);
    expect(response.status).toBe(404);
    expect(await problem(response)).toMatchObject({
      code: "NOT_FOUND",
      instance: "/nowhere",
      title: "Not found",
    });
  });

  it("405 with Allow for a known path and the wrong method", async () => {
    const response = await appWith().request("/health", { method: "DELETE" }, env);
    expect(response.status).toBe(405);
    expect(response.headers.get("Allow")).toBe("GET, HEAD");
    expect(await problem(response)).toMatchObject({ code: "METHOD_NOT_ALLOWED" });
  });

  it("413 when the body exceeds MAX_BODY_BYTES", async () => {
    const response = await appWith().request("/health", { method: "POST", body: "x".repeat(4096) }, env);
    expect(response.status).toBe(413);
    expect(await problem(response)).toMatchObject({ code: "PAYLOAD_TOO_LARGE" });
  });

  it("an unexpected exception is a bare 500: logged with the request id, never echoed", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const app = new Hono<AppBindings>()
      .use(requestId())
      .get("/boom", () => {
        throw new Error("connection string postgres://user:hunter2@db");
      })
      .onError(renderError);
    const response = await app.request("/boom", { headers: { "X-Request-Id": "req_test" } });
    expect(response.status).toBe(500);
    const body = await problem(response);
    expect(body.code).toBe("INTERNAL");
    expect(JSON.stringify(body)).not.toContain("hunter2");
    expect(logged.mock.calls.flat().join(" ")).toContain('"request_id":"req_test"');
  });

  it("domain refusals become their problem in one place: status, challenge, extensions", async () => {
    const app = new Hono<AppBindings>()
      .use(requestId())
      .get("/key", () => {
        throw new AccessRefusal("API_KEY_INVALID", "This API key is unknown or has been revoked.");
      })
      .get("/closed", () => {
        throw new AccessRefusal("ACCOUNT_CLOSED", "This account is closed.");
      })
      .get("/limit", () => {
        throw new ValidationRefusal("LIMIT_EXCEEDED", "Too deep.", { limit: "max_depth" });
      })
      .onError(renderError);
    const key = await app.request("/key");
    expect(key.status).toBe(401);
    expect(key.headers.get("WWW-Authenticate")).toBe('Bearer realm="schema-meter", error="invalid_token"');
    expect(await problem(key)).toMatchObject({
      code: "API_KEY_INVALID",
      detail: "This API key is unknown or has been revoked.",
    });
    const closed = await app.request("/closed");
    expect(closed.status).toBe(403);
    expect(closed.headers.get("WWW-Authenticate")).toBeNull();
    expect(await problem(closed)).toMatchObject({
      code: "ACCOUNT_CLOSED",
      detail: "This account is closed.",
    });
    const limit = await app.request("/limit");
    expect(limit.status).toBe(422);
    expect(await problem(limit)).toMatchObject({ code: "LIMIT_EXCEEDED", limit: "max_depth" });
  });

  it("a misconfigured Worker answers 503 without naming settings, except on the readiness probe", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const app = appWith();
    const broken: Env = { SUPABASE_URL: "https://db.example" };
    expect((await app.request("/health", {}, broken)).status).toBe(200);
    const api = await app.request("/v1/anything", {}, broken);
    expect(api.status).toBe(503);
    expect(JSON.stringify(await problem(api))).not.toContain("UPSTASH");
    const ready = await app.request("/health/ready", {}, broken);
    expect(ready.status).toBe(503);
    const body = await problem(ready);
    expect(body.code).toBe("SERVICE_MISCONFIGURED");
    expect(body.problems).toContain("UPSTASH_REDIS_REST_URL is missing");
  });
});

describe("JSON bodies", () => {
  const app = new Hono<AppBindings>()
    .use(requestId())
    .post("/echo", requireJson, jsonBody(z.object({ name: z.string(), tags: z.array(z.string()) })), (c) =>
      c.json(c.req.valid("json")),
    )
    .onError(renderError);
  const post = (body: string, type = "application/json") =>
    app.request("/echo", { method: "POST", body, headers: { "Content-Type": type } });

  it("passes a valid body through", async () => {
    const response = await post('{"name":"a","tags":["x"]}');
    expect(await response.json()).toEqual({ name: "a", tags: ["x"] });
  });

  it("400 MALFORMED_JSON for a body that is not JSON", async () => {
    const response = await post('{"name": "a",');
    expect(response.status).toBe(400);
    expect(await problem(response)).toMatchObject({ code: "MALFORMED_JSON" });
  });

  it("a malformed body answers with its line, column and a hint for the common mistakes", async () => {
    const cases: Array<[string, { line: number; column: number }, RegExp]> = [
      ['{\n  "name": "a",\n  "tags": ["x",],\n}', { line: 3, column: 16 }, /Trailing comma/],
      ["{'name': 'a'}", { line: 1, column: 2 }, /double quotes/],
      ['{\n  name: "a"}', { line: 2, column: 3 }, /keys must be quoted/],
      ['{"name": "a", "tags": [] // mine\n}', { line: 1, column: 26 }, /no comments/],
      ['{"name": True}', { line: 1, column: 10 }, /true, false and null/],
      ['{"name": "a"', { line: 1, column: 13 }, /ends early/],
    ];
    for (const [body, position, hint] of cases) {
      const response = await post(body);
      expect(response.status, body).toBe(400);
      const answer = await problem(response);
      expect(answer, body).toMatchObject({ code: "MALFORMED_JSON", ...position });
      expect(answer.hint, body).toMatch(hint);
      expect(answer.detail, body).toContain(`line ${position.line}, column ${position.column}`);
    }
  });

  it("a field sent as a string holding JSON gets a hint", async () => {
    const schemaApp = new Hono<AppBindings>()
      .use(requestId())
      .post("/v", requireJson, jsonBody(z.object({ schema: z.record(z.string(), z.unknown()) })), (c) =>
        c.json(c.req.valid("json")),
      )
      .onError(renderError);
    const response = await schemaApp.request("/v", {
      method: "POST",
      body: JSON.stringify({ schema: JSON.stringify({ type: "object" }) }),
      headers: { "Content-Type": "application/json" },
    });
    const answer = await problem(response);
    expect(answer.code).toBe("BAD_REQUEST");
    expect(answer.hints).toEqual([expect.stringContaining('"schema" is a string holding JSON')]);
    expect(answer.detail).toContain("without quotes around it");
  });

  it("400 BAD_REQUEST with a pointer per problem", async () => {
    const response = await post('{"name": 1, "tags": ["ok", 2]}');
    expect(response.status).toBe(400);
    const body = await problem(response);
    expect(body.code).toBe("BAD_REQUEST");
    expect(body.errors).toEqual([
      { pointer: "/name", detail: expect.any(String) },
      { pointer: "/tags/1", detail: expect.any(String) },
    ]);
  });

  it("415 for a non-JSON content type", async () => {
    const response = await post("name=a", "application/x-www-form-urlencoded");
    expect(response.status).toBe(415);
    expect(await problem(response)).toMatchObject({ code: "UNSUPPORTED_MEDIA_TYPE" });
  });
});

describe("health", () => {
  it("readiness is 200 with per-dependency checks when both answer", async () => {
    const response = await appWith().request("/health/ready", {}, env);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      status: "ready",
      checks: { redis: { ok: true }, postgres: { ok: true } },
    });
  });

  it("readiness is 503 naming the failing dependency, including a hanging one", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const services = fakeServices({ redisPing: () => new Promise(() => {}) });
    const started = Date.now();
    const response = await appWith(services).request("/health/ready", {}, env);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(response.status).toBe(503);
    const body = await problem(response);
    expect(body).toMatchObject({ code: "DEPENDENCY_UNAVAILABLE", failing: ["redis"] });
    expect(body.detail).toBe("Not ready: redis unavailable");
  });

  it("readiness is 503 SERVICE_MISCONFIGURED naming the setting when the token keys do not load", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    // Valid JSON, so the configuration schema accepts it; not an Ed25519 key, so it cannot be used.
    const badKeys: Env = {
      ...env,
      JWT_SECRET: undefined,
      JWT_PRIVATE_JWK: JSON.stringify({ kty: "RSA", kid: "k" }),
    };
    const response = await appWith().request("/health/ready", {}, badKeys);
    expect(response.status).toBe(503);
    const body = await problem(response);
    expect(body).toMatchObject({ code: "SERVICE_MISCONFIGURED" });
    expect(body.problems).toEqual(["JWT_PRIVATE_JWK must hold Ed25519 keys (kty OKP, crv Ed25519)"]);
  });
});

describe("request log", () => {
  it("writes one JSON line per request with route, status and latency, and no secrets", async () => {
    const lines: string[] = [];
    vi.spyOn(console, "log").mockImplementation((line: string) => lines.push(line));
    vi.spyOn(console, "warn").mockImplementation((line: string) => lines.push(line));
    await appWith().request("/health", { headers: { Authorization: "Bearer sk_live_should_not_log" } }, env);
    await appWith().request("/missing", {}, env);
    expect(lines).toHaveLength(2);
    const [first, second] = lines.map((line) => JSON.parse(line));
    expect(first).toMatchObject({ msg: "request", method: "GET", route: "/health", status: 200 });
    expect(typeof first.latency_ms).toBe("number");
    expect(first.request_id).toMatch(/^req_/);
    expect(second).toMatchObject({ status: 404, path: "/missing", level: "warn" });
    expect(lines.join("\n")).not.toContain("sk_live_should_not_log");
  });
});

describe("OpenAPI and docs", () => {
  type Document = { openapi: string; paths: Record<string, Record<string, { "x-codeSamples"?: unknown[] }>> };
  const documentAt = async (app: ReturnType<typeof appWith>, path: string) =>
    (await (await app.request(path, {}, env)).json()) as Document;

  it("serves the customer routes at /openapi.json and the operator's apart, each with code samples", async () => {
    const app = appWith();
    const customer = await documentAt(app, "/openapi.json");
    const operator = await documentAt(app, "/openapi/operator.json");
    expect(customer.openapi).toBe("3.1.0");
    expect(Object.keys(customer.paths)).toEqual(
      expect.arrayContaining(["/v1/validate", "/v1/token", "/docs"]),
    );
    expect(Object.keys(customer.paths).filter((path) => /^\/(admin|webhooks|health)/.test(path))).toEqual([]);
    expect(Object.keys(operator.paths)).toEqual(
      expect.arrayContaining(["/health/ready", "/admin/flush", "/webhooks/stripe"]),
    );
    expect(Object.keys(operator.paths)).not.toContain("/v1/validate");
    for (const operation of Object.values(customer.paths).flatMap((item) => Object.values(item))) {
      expect(operation["x-codeSamples"]).toHaveLength(3);
    }
  });

  it("renders the reference with this Worker's renderer script, and one section per error code", async () => {
    const app = appWith();
    const page = await app.request("/docs", {}, env);
    expect(page.headers.get("Content-Type")).toMatch(/text\/html/);
    const html = await page.text();
    expect(html).toContain("/docs/scalar/standalone.esm.js");
    expect(html).toContain('"url": "/openapi.json"');
    expect(html).not.toMatch(/https?:\/\//);
    expect(await (await app.request("/docs/operator", {}, env)).text()).toContain("/openapi/operator.json");
    const errors = await (await app.request("/docs/errors", {}, env)).text();
    for (const code of ["NOT_FOUND", "TOKEN_INVALID", "RATE_LIMITED", "INTERNAL"]) {
      expect(errors).toContain(`id="${code.toLowerCase()}"`);
    }
    expect(errors).toContain("<code>Retry-After</code>");
    expect(errors).not.toContain("`");
  });
});

describe("response headers", () => {
  it("every response has the security headers; only the reference pages allow a script, their own", async () => {
    const errors = await appWith().request("/docs/errors", {}, env);
    expect(errors.status).toBe(200);
    const csp = errors.headers.get("Content-Security-Policy") ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/script-src/);
    expect(errors.headers.get("X-Content-Type-Options")).toBe("nosniff");
    expect(errors.headers.get("X-Frame-Options")).toBe("DENY");
    expect(errors.headers.get("Strict-Transport-Security")).toMatch(/^max-age=\d+/);
    const missing = await appWith().request("/nowhere", {}, env);
    expect(missing.headers.get("X-Content-Type-Options")).toBe("nosniff");

    const docs = await appWith().request("/docs", {}, env);
    const docsCsp = docs.headers.get("Content-Security-Policy") ?? "";
    const nonce = /script-src 'self' 'nonce-([^']+)'/.exec(docsCsp)?.[1];
    expect(nonce, docsCsp).toBeDefined();
    expect(await docs.text()).toContain(`nonce="${nonce}"`);
    expect(docsCsp).toContain("connect-src 'self'");
    expect(docsCsp).toContain("frame-ancestors 'none'");
    expect(docsCsp).not.toMatch(/https?:/);
    expect(docs.headers.get("X-Frame-Options")).toBe("DENY");
  });

  it("API answers, errors included, are never stored by a cache; public documents may be", async () => {
    const app = appWith();
    const refused = await app.request("/v1/account", {}, env);
    expect(refused.status).toBe(401);
    expect(refused.headers.get("Cache-Control")).toBe("no-store");
    const validate = await app.request("/v1/validate", { method: "POST" }, env);
    expect(validate.headers.get("Cache-Control")).toBe("no-store");
    const admin = await app.request("/admin/events", {}, env);
    expect(admin.headers.get("Cache-Control")).toBe("no-store");
    expect((await app.request("/openapi.json", {}, env)).headers.get("Cache-Control")).not.toBe("no-store");
  });
});

describe("HTTP hygiene", () => {
  it("a trailing slash names the same route", async () => {
    const app = appWith();
    const slashed = await app.request("/v1/validate/", { method: "POST" }, env);
    expect(slashed.status).toBe(401);
    expect((await problem(slashed)).code).toBe("AUTH_REQUIRED");
    expect((await app.request("/health/", {}, env)).status).toBe(200);
  });

  it("GET / links to the documentation and the OpenAPI document", async () => {
    const root = await appWith().request("/", {}, env);
    expect(root.status).toBe(200);
    expect(await root.json()).toMatchObject({
      docs: "/docs",
      openapi: "/openapi.json",
      version: expect.any(String),
    });
  });

  it("every response names the API version, and the OpenAPI document carries the same", async () => {
    const app = appWith();
    const version = (await app.request("/health", {}, env)).headers.get("Schema-Meter-Version");
    expect(version).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect((await app.request("/nowhere", {}, env)).headers.get("Schema-Meter-Version")).toBe(version);
    expect((await app.request("/v1/account", {}, env)).headers.get("Schema-Meter-Version")).toBe(version);
    const document = (await (await app.request("/openapi.json", {}, env)).json()) as {
      info: { version: string };
    };
    expect(document.info.version).toBe(version);
  });

  it("OPTIONS lists a path's methods; without CORS_ORIGINS no CORS header is sent", async () => {
    const options = await appWith().request(
      "/v1/validate",
      {
        method: "OPTIONS",
        headers: { Origin: "https://app.example", "Access-Control-Request-Method": "POST" },
      },
      env,
    );
    expect(options.status).toBe(204);
    expect(options.headers.get("Allow")).toBe("POST, OPTIONS");
    expect(options.headers.get("Access-Control-Allow-Origin")).toBeNull();
  });

  it("CORS_ORIGINS: preflights and answers for a listed origin, nothing for another", async () => {
    const app = appWith();
    const corsEnv = { ...env, CORS_ORIGINS: "https://app.example, https://console.example/" };
    const preflight = (origin: string) =>
      app.request(
        "/v1/validate",
        {
          method: "OPTIONS",
          headers: {
            Origin: origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
          },
        },
        corsEnv,
      );
    const allowed = await preflight("https://console.example");
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get("Access-Control-Allow-Origin")).toBe("https://console.example");
    expect(allowed.headers.get("Access-Control-Allow-Headers")).toMatch(/Authorization/);
    expect((await preflight("https://evil.example")).headers.get("Access-Control-Allow-Origin")).toBeNull();

    const answer = await app.request("/v1/account", { headers: { Origin: "https://app.example" } }, corsEnv);
    expect(answer.status).toBe(401);
    expect(answer.headers.get("Access-Control-Allow-Origin")).toBe("https://app.example");
    expect(answer.headers.get("Access-Control-Expose-Headers")).toMatch(/RateLimit/);
  });

  it("a malformed CORS_ORIGINS is a configuration problem naming the setting", async () => {
    const broken = await appWith().request("/health/ready", {}, { ...env, CORS_ORIGINS: "app.example" });
    expect(broken.status).toBe(503);
    expect(JSON.stringify(await broken.json())).toContain("CORS_ORIGINS");
  });
});
