import type { ErrorEvent } from "@sentry/core";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type SentryIngest, startSentryIngest } from "../../test/support/sentry-ingest";
import { renderError } from "../app";
import type { AppBindings, Env } from "../env";
import { ApiError } from "../errors";
import { requestId } from "../middleware/request-id";
import { DEFAULT_RELEASE, EVENTS_PER_ISSUE_PER_MINUTE, redact, scrubEvent } from "./error-tracking";
import { errorTrackingOptions } from "./sentry";

const env: Env = {
  SENTRY_DSN: "http://public@127.0.0.1:9/1",
  UPSTASH_REDIS_REST_TOKEN: "redis-token-value-123",
  SUPABASE_SERVICE_ROLE_KEY: "service-role-secret-value",
  STRIPE_SECRET_KEY: "stripe-secret-configured-value",
  ADMIN_TOKEN: "admin-token-of-24-characters-x",
  STRIPE_METER_EVENT_NAME: "api_validation",
};
const API_KEY = `sm_abcdefghij_${"Z".repeat(43)}`;

describe("scrubEvent", () => {
  it("keeps the method and path of the request, and drops headers, cookies, body, query, user, breadcrumbs", () => {
    const event: ErrorEvent = {
      type: undefined,
      request: {
        method: "POST",
        url: "https://api.example/v1/validate?api_key=leak#frag",
        headers: { authorization: `Bearer ${API_KEY}` },
        cookies: { session: "leak" },
        data: '{"data":{"card":"4242"}}',
        query_string: "api_key=leak",
      },
      user: { ip_address: "203.0.113.9", email: "someone@example.com" },
      breadcrumbs: [{ message: "GET https://db.example/rest/v1/rpc/x?key=leak" }],
      extra: { body: "leak" },
    };
    const scrubbed = scrubEvent(event, []);
    expect(scrubbed.request).toEqual({ method: "POST", url: "https://api.example/v1/validate" });
    expect(JSON.stringify(scrubbed)).not.toMatch(/leak|4242|someone|203\.0\.113|Bearer sm_/);
  });

  it("redacts configured secrets and credential shapes from every string, tags and exceptions included", () => {
    const options = errorTrackingOptions(env);
    const beforeSend = options?.beforeSend as (event: ErrorEvent) => ErrorEvent;
    const event = beforeSend({
      type: undefined,
      exception: {
        values: [
          { type: "Error", value: "Upstash refused redis-token-value-123 and service-role-secret-value" },
          {
            type: "Error",
            value: `key ${API_KEY}; Authorization: Bearer abc.def; sk_live_51Habcdefgh; whsec_abcdefghij`,
          },
        ],
      },
      tags: { note: "token eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl" },
      contexts: { admin: { token: "admin-token-of-24-characters-x" } },
    });
    const text = JSON.stringify(event);
    for (const leaked of [
      "redis-token-value-123",
      "service-role-secret-value",
      API_KEY,
      "sm_abcdefghij",
      "abc.def",
      "sk_live_51H",
      "whsec_abc",
      "eyJhbGci",
      "admin-token-of-24",
    ]) {
      expect(text, leaked).not.toContain(leaked);
    }
    expect(text).toContain("Bearer [redacted]");
    // Words that only look like settings stay: the non-secret meter name is not a credential.
    expect(redact("meter api_validation failed", ["redis-token-value-123"])).toBe(
      "meter api_validation failed",
    );
  });
});

describe("errorTrackingOptions", () => {
  it("is off (undefined) without SENTRY_DSN", () => {
    expect(errorTrackingOptions({ ...env, SENTRY_DSN: undefined })).toBeUndefined();
    expect(errorTrackingOptions({ ...env, SENTRY_DSN: "" })).toBeUndefined();
  });

  it("tags the release, collects nothing about the caller and never traces", () => {
    const options = errorTrackingOptions(env);
    expect(options).toMatchObject({
      release: DEFAULT_RELEASE,
      environment: "production",
      tracesSampleRate: 0,
    });
    expect(errorTrackingOptions({ ...env, SENTRY_RELEASE: "abc123" })?.release).toBe("abc123");
    expect(options?.dataCollection).toMatchObject({
      httpHeaders: false,
      httpBodies: [],
      urlQueryParams: false,
    });
    const integrations = (options?.defaultIntegrations || []).map((integration) => integration.name);
    expect(integrations).not.toContain("RequestData");
    expect(integrations).not.toContain("Console");
  });
});

describe("renderError reports 5xx, never 4xx", () => {
  let ingest: SentryIngest;
  beforeAll(async () => {
    ingest = await startSentryIngest();
  });
  afterAll(async () => {
    await ingest?.stop();
  });

  it("sends one event per 5xx with the request id, route pattern and code; none for 4xx", async () => {
    const sending: Promise<unknown>[] = [];
    const app = new Hono<AppBindings>()
      .use(requestId())
      .get("/items/:id", (c) => {
        if (c.req.param("id") === "missing") throw new ApiError("NOT_FOUND");
        if (c.req.param("id") === "bad") throw new ApiError("MALFORMED_JSON");
        throw new Error(`database exploded near ${API_KEY}`);
      })
      .onError(renderError);
    const ctx = {
      waitUntil: (promise: Promise<unknown>) => sending.push(promise),
      passThroughOnException() {},
      props: {},
    };
    const trackedEnv = { ...env, SENTRY_DSN: ingest.dsn };
    const call = (path: string, id: string) =>
      app.request(path, { headers: { "X-Request-Id": id } }, trackedEnv, ctx as unknown as ExecutionContext);

    expect((await call("/items/42", "unit-500")).status).toBe(500);
    expect((await call("/items/missing", "unit-404")).status).toBe(404);
    expect((await call("/items/bad", "unit-400")).status).toBe(400);
    expect((await call("/items/43", "unit-500-again")).status).toBe(500);
    await Promise.all(sending);

    const events = ingest.items("event");
    expect(events.map((event) => (event.tags as Record<string, unknown>).request_id)).toEqual([
      "unit-500",
      "unit-500-again",
    ]);
    expect(events[0]).toMatchObject({
      release: DEFAULT_RELEASE,
      tags: { request_id: "unit-500", route: "/items/:id", method: "GET", status: 500, code: "INTERNAL" },
      exception: { values: [{ type: "Error" }] },
    });
    const frames = (events[0] as { exception: { values: Array<{ stacktrace?: { frames: unknown[] } }> } })
      .exception.values[0]?.stacktrace?.frames;
    expect(frames?.length).toBeGreaterThan(0);
    expect(ingest.envelopes.map((envelope) => envelope.raw).join("\n")).not.toContain("sm_abcdefghij");
  });

  it("sends at most EVENTS_PER_ISSUE_PER_MINUTE per issue, then one carrying how many it stood for", async () => {
    const sending: Promise<unknown>[] = [];
    const ctx = {
      waitUntil: (promise: Promise<unknown>) => sending.push(promise),
      passThroughOnException() {},
      props: {},
    };
    const app = new Hono<AppBindings>().use(requestId()).post("/outage", () => {
      throw new Error("redis down");
    });
    app.onError(renderError);
    const trackedEnv = { ...env, SENTRY_DSN: ingest.dsn };
    const call = (id: string) =>
      app.request(
        "/outage",
        { method: "POST", headers: { "X-Request-Id": id } },
        trackedEnv,
        ctx as unknown as ExecutionContext,
      );
    const outageEvents = () =>
      ingest.items("event").filter((event) => (event.tags as Record<string, unknown>).route === "/outage");

    for (let i = 0; i < EVENTS_PER_ISSUE_PER_MINUTE + 2; i++)
      expect((await call(`outage-${i}`)).status).toBe(500);
    await Promise.all(sending);
    expect(outageEvents()).toHaveLength(EVENTS_PER_ISSUE_PER_MINUTE);

    const later = Date.now() + 61_000;
    const clock = vi.spyOn(Date, "now").mockReturnValue(later);
    try {
      await call("outage-after");
    } finally {
      clock.mockRestore();
    }
    await Promise.all(sending);
    const last = outageEvents().at(-1);
    expect(last?.tags).toMatchObject({ request_id: "outage-after", suppressed: 2 });
  });

  it("does nothing without SENTRY_DSN", async () => {
    const before = ingest.envelopes.length;
    const app = new Hono<AppBindings>().get("/boom", () => {
      throw new Error("boom");
    });
    app.onError(renderError);
    expect((await app.request("/boom", {}, { ...env, SENTRY_DSN: undefined })).status).toBe(500);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(ingest.envelopes.length).toBe(before);
  });
});
