/**
 * Error tracking end to end: the built Worker under `wrangler dev` with the real Sentry SDK
 * (@sentry/core), its DSN pointing at a local stand-in for Sentry's ingest endpoint. A 5xx
 * (Postgres answering 500 through a proxy that fails on demand) arrives as an event with the
 * request id, route and release, and without any secret, key, token, document or schema; 4xx
 * answers arrive as nothing; each cron task checks in with its monitor.
 */
import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalStack, startLocalStack } from "../support/local-stack";
import { freePort } from "../support/ports";
import { type SentryIngest, startSentryIngest } from "../support/sentry-ingest";
import { E2E_ADMISSION_TIMEOUT_MS, startWranglerDev, type WorkerProcess } from "../support/wrangler-dev";

const RELEASE = "schema-meter@e2e-release";
/** Strings that must never reach Sentry: they ride in the failing request's body, header and query. */
const API_KEY = `sm_abcdefghij_${"Q".repeat(43)}`;
const DOCUMENT_MARKER = "customer-document-9f2c41";
const SCHEMA_MARKER = "customer-schema-property-7d1e";
const QUERY_SECRET = "query-secret-55aa77";

let stack: LocalStack;
let ingest: SentryIngest;
let worker: WorkerProcess;
let failingDatabase: { server: Server; url: string; failing: boolean };

/** PostgREST behind a switch: while `failing`, every call answers 500 as a broken database would. */
async function startFailingProxy(target: string) {
  const port = await freePort();
  const state = { failing: false } as { server: Server; url: string; failing: boolean };
  state.server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", async () => {
      if (state.failing) {
        response.writeHead(500, { "Content-Type": "application/json" });
        response.end(JSON.stringify({ code: "XX000", message: "internal error", details: null, hint: null }));
        return;
      }
      const headers = Object.fromEntries(
        Object.entries(request.headers).filter(
          (entry): entry is [string, string] => typeof entry[1] === "string" && entry[0] !== "host",
        ),
      );
      const body = chunks.length > 0 ? Buffer.concat(chunks) : undefined;
      const upstream = await fetch(`${target}${request.url}`, { method: request.method, headers, body });
      response.writeHead(upstream.status, Object.fromEntries(upstream.headers));
      response.end(Buffer.from(await upstream.arrayBuffer()));
    });
  });
  await new Promise<void>((resolve) => state.server.listen(port, "127.0.0.1", resolve));
  state.url = `http://127.0.0.1:${port}`;
  return state;
}

beforeAll(async () => {
  stack = await startLocalStack({ redis: "own" });
  ingest = await startSentryIngest();
  failingDatabase = await startFailingProxy(stack.vars.SUPABASE_URL ?? "");
  worker = await startWranglerDev({
    vars: {
      ...stack.vars,
      SUPABASE_URL: failingDatabase.url,
      ADMISSION_TIMEOUT_MS: E2E_ADMISSION_TIMEOUT_MS,
      SENTRY_DSN: ingest.dsn,
      SENTRY_RELEASE: RELEASE,
      SENTRY_ENVIRONMENT: "e2e",
    },
    testScheduled: true,
  });
});

afterAll(async () => {
  await worker?.stop();
  await new Promise<void>((resolve) =>
    failingDatabase ? failingDatabase.server.close(() => resolve()) : resolve(),
  );
  await ingest?.stop();
  await stack?.stop();
});

const api = (path: string, init?: RequestInit) => fetch(`${worker.url}${path}`, init);

/** A validate call whose API key lookup reaches the (failing) database. */
async function failingValidate(requestId: string) {
  failingDatabase.failing = true;
  try {
    return await api(`/v1/validate?api_key=${QUERY_SECRET}`, {
      method: "POST",
      headers: {
        Authorization: `Bearer ${API_KEY}`,
        "Content-Type": "application/json",
        "X-Request-Id": requestId,
        Cookie: `session=${QUERY_SECRET}`,
      },
      body: JSON.stringify({
        schema: { type: "object", properties: { [SCHEMA_MARKER]: { type: "string" } } },
        data: { name: DOCUMENT_MARKER },
      }),
    });
  } finally {
    failingDatabase.failing = false;
  }
}

const eventsFor = (requestId: string) =>
  ingest.items("event").filter((event) => (event.tags as Record<string, unknown>)?.request_id === requestId);

describe("error tracking, end to end (real SDK, local Sentry stand-in)", () => {
  it("a 5xx reaches Sentry with the request id, route and release, and no secret or document", async () => {
    const response = await failingValidate("e2e-sentry-500");
    expect(response.status, await response.clone().text()).toBeGreaterThanOrEqual(500);
    expect(response.headers.get("X-Request-Id")).toBe("e2e-sentry-500");

    await expect.poll(() => eventsFor("e2e-sentry-500").length, { timeout: 10_000 }).toBe(1);
    const [event] = eventsFor("e2e-sentry-500");
    expect(event).toMatchObject({
      release: RELEASE,
      environment: "e2e",
      tags: { request_id: "e2e-sentry-500", route: "/v1/validate", method: "POST", status: response.status },
    });

    const raw = ingest.envelopes.map((envelope) => envelope.raw).join("\n");
    const never = [
      API_KEY,
      "sm_abcdefghij",
      DOCUMENT_MARKER,
      SCHEMA_MARKER,
      QUERY_SECRET,
      stack.secrets.redisToken,
      stack.secrets.serviceRoleKey,
      stack.secrets.stripeSecretKey,
      stack.secrets.stripeWebhookSecret,
      stack.secrets.adminToken,
    ];
    for (const secret of never) expect(raw, `Sentry received ${secret}`).not.toContain(secret);
    expect(raw).not.toMatch(/authorization|cookie/i);
  });

  it("4xx answers (401, 400, 404) are never reported", async () => {
    const unauthorized = await api("/v1/validate", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Request-Id": "e2e-sentry-401" },
      body: "{}",
    });
    expect(unauthorized.status).toBe(401);
    const malformed = await api("/v1/signup", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Request-Id": "e2e-sentry-400" },
      body: "{not json",
    });
    expect(malformed.status).toBe(400);
    const missing = await api("/nope", { headers: { "X-Request-Id": "e2e-sentry-404" } });
    expect(missing.status).toBe(404);

    // A 5xx after them as a barrier: once its event is in, anything the 4xx sent would be too.
    await failingValidate("e2e-sentry-barrier");
    await expect.poll(() => eventsFor("e2e-sentry-barrier").length, { timeout: 10_000 }).toBe(1);
    for (const id of ["e2e-sentry-401", "e2e-sentry-400", "e2e-sentry-404"]) {
      expect(eventsFor(id), id).toHaveLength(0);
    }
  });

  it("each cron task checks in with its monitor: in progress, then ok", async () => {
    expect((await api("/__scheduled?cron=*+*+*+*+*")).status).toBe(200);
    const checkIns = () => ingest.items("check_in");
    for (const slug of [
      "schema-meter-usage-flush",
      "schema-meter-grace-expiry",
      "schema-meter-dunning-emails",
    ]) {
      await expect
        .poll(
          () =>
            checkIns()
              .filter((checkIn) => checkIn.monitor_slug === slug)
              .map((c) => c.status),
          {
            timeout: 10_000,
          },
        )
        .toEqual(["in_progress", "ok"]);
      const [started] = checkIns().filter((checkIn) => checkIn.monitor_slug === slug);
      expect(started?.monitor_config).toMatchObject({ schedule: { type: "crontab", value: "* * * * *" } });
    }
  });
});
