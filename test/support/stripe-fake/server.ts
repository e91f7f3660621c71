/**
 * The HTTP side: records every request, injects failures, checks the secret key, replays
 * idempotent POSTs, routes to handlers and answers with Stripe's headers (`Request-Id`,
 * `Stripe-Version`, `Idempotent-Replayed` / `Original-Request` on replays).
 */
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import { StripeApiError, unrecognizedUrl } from "./errors";
import { type FailureInjector, type FailureMode, injectedFailureBody } from "./failures";
import { canonicalParams, type FormObject, parseStripeForm } from "./form";
import type { IdempotencyStore, SavedResponse } from "./idempotency";
import { newRequestId } from "./ids";
import type { EventRequest } from "./objects/events";
import { renderPage } from "./pages";
import { activeMeterFor } from "./resources/meters";
import { apiRoutes, matchRoute, testHookRoutes } from "./routes";
import type { FakeContext } from "./state";

/** One request as the fake saw it, for tests to inspect. */
export interface RecordedRequest {
  /** The `Request-Id` the fake answered with. */
  id: string;
  method: string;
  path: string;
  query: FormObject;
  /** The parsed form body (bracket syntax expanded). */
  body: FormObject;
  rawBody: string;
  /** Lower-cased request headers. */
  headers: Record<string, string>;
  idempotencyKey: string | null;
  /** The status answered, or "timeout" when the fake never answered. */
  status: number | "timeout";
  /** True when the answer was an idempotent replay of an earlier one. */
  replayed: boolean;
  /** The failure injected by `failNext`, if any. */
  injected: FailureMode | null;
  /** Fake-clock ms on arrival. */
  time: number;
}

export interface ServerDeps {
  ctx: FakeContext;
  apiKey: string;
  idempotency: IdempotencyStore;
  failures: FailureInjector;
  requests: RecordedRequest[];
  /** Runs before each request (time-driven changes such as subscriptions ending). */
  beforeRequest(): void;
}

interface Outcome {
  status: number;
  body: string;
  headers: Record<string, string>;
  replayed?: boolean;
}

const json = (value: unknown) => JSON.stringify(value, null, 2);

function errorOutcome(error: StripeApiError): Outcome {
  return { status: error.status, body: json(error.toBody()), headers: { ...error.details.headers } };
}

function presentedKey(authorization: string | undefined): string | undefined {
  if (!authorization) return undefined;
  const [scheme = "", value = ""] = authorization.split(" ", 2);
  if (/^bearer$/i.test(scheme)) return value.trim();
  // `curl -u sk_test_...:` sends Basic auth with the key as the user name; Stripe accepts both.
  if (/^basic$/i.test(scheme)) return Buffer.from(value, "base64").toString("utf8").split(":")[0];
  return undefined;
}

function authenticate(authorization: string | undefined, apiKey: string): StripeApiError | undefined {
  const key = presentedKey(authorization);
  if (!key) {
    return new StripeApiError(
      401,
      "invalid_request_error",
      "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.",
      { savedForIdempotency: false },
    );
  }
  if (key !== apiKey) {
    const redacted = `${key.slice(0, 8)}${"*".repeat(Math.max(0, key.length - 12))}${key.slice(-4)}`;
    return new StripeApiError(401, "invalid_request_error", `Invalid API Key provided: ${redacted}`, {
      code: "api_key_invalid",
      savedForIdempotency: false,
    });
  }
  return undefined;
}

function runHandler(
  deps: ServerDeps,
  routes: typeof apiRoutes,
  method: string,
  path: string,
  params: FormObject,
  request: EventRequest,
): Outcome | StripeApiError {
  const match = matchRoute(routes, method, path);
  if (!match) return unrecognizedUrl(method, path);
  try {
    const body = match.route.handler(deps.ctx, { params, pathParams: match.pathParams, request });
    return { status: 200, body: json(body), headers: {} };
  } catch (error) {
    if (error instanceof StripeApiError) return error;
    // A bug in the fake: answer like Stripe's 500 but say what broke, for whoever reads the logs.
    console.error("[stripe-fake]", error);
    return new StripeApiError(500, "api_error", `Fake Stripe internal error: ${(error as Error).message}`);
  }
}

/** Runs an API call under Stripe's idempotency rules. */
function executeApiCall(
  deps: ServerDeps,
  method: string,
  path: string,
  params: FormObject,
  requestId: string,
  key: string | null,
): Outcome {
  const idempotent = method === "POST" && key !== null;
  const paramsKey = canonicalParams(params);
  if (idempotent) {
    let saved: SavedResponse | undefined;
    try {
      saved = deps.idempotency.replay(key, method, path, paramsKey);
    } catch (error) {
      return errorOutcome(error as StripeApiError);
    }
    if (saved) {
      return {
        status: saved.status,
        body: saved.body,
        headers: { ...saved.headers, "Idempotent-Replayed": "true", "Original-Request": saved.requestId },
        replayed: true,
      };
    }
  }
  const result = runHandler(deps, apiRoutes, method, path, params, { id: requestId, idempotency_key: key });
  const outcome = result instanceof StripeApiError ? errorOutcome(result) : result;
  const saveable = !(result instanceof StripeApiError) || result.savedForIdempotency;
  if (idempotent && saveable) {
    deps.idempotency.save(key, method, path, paramsKey, { ...outcome, requestId });
  }
  return outcome;
}

function route(
  deps: ServerDeps,
  req: IncomingMessage,
  method: string,
  path: string,
  params: FormObject,
  requestId: string,
  key: string | null,
): Outcome {
  if (path.startsWith("/v1/") || path.startsWith("/v2/")) {
    const authError = authenticate(req.headers.authorization, deps.apiKey);
    if (authError)
      return { ...errorOutcome(authError), headers: { "WWW-Authenticate": 'Basic realm="Stripe"' } };
    return executeApiCall(deps, method, path, params, requestId, key);
  }
  if (path.startsWith("/test/")) {
    const result = runHandler(deps, testHookRoutes, method, path, params, {
      id: null,
      idempotency_key: null,
    });
    return result instanceof StripeApiError ? errorOutcome(result) : result;
  }
  try {
    const page = renderPage(deps.ctx, method, path);
    if (page) return page;
  } catch (error) {
    if (error instanceof StripeApiError) return errorOutcome(error);
    throw error;
  }
  return errorOutcome(unrecognizedUrl(method, path));
}

const METER_EVENTS_PATH = "/v1/billing/meter_events";

/** The `event_name|customer` pair a meter event call is for, as the meter maps its payload. */
function meterEventPair(ctx: FakeContext, params: FormObject): string | null {
  const eventName = typeof params.event_name === "string" ? params.event_name : "";
  const payload = params.payload;
  if (typeof payload !== "object" || payload === null || Array.isArray(payload)) return null;
  const key = activeMeterFor(ctx, eventName)?.customer_mapping.event_payload_key ?? "stripe_customer_id";
  const customer = (payload as Record<string, unknown>)[key];
  return typeof customer === "string" && customer ? `${eventName}|${customer}` : null;
}

/** Stripe's answer to a second concurrent meter event call for one customer and meter. */
function concurrentCallRefused(): Outcome {
  return {
    status: 429,
    body: json({
      error: {
        type: "invalid_request_error",
        code: "rate_limit",
        doc_url: "https://stripe.com/docs/error-codes/rate-limit",
        message:
          "Too many concurrent requests for this customer and meter: only one meter event call per customer and meter may be in flight. Retry after the previous call completes.",
      },
    }),
    headers: { "Retry-After": "1" },
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function lowerCaseHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return out;
}

export interface FakeServer {
  server: http.Server;
  /** Drops every connection, including requests held open by a "timeout" failure. */
  closeConnections(): void;
}

export function createFakeServer(deps: ServerDeps): FakeServer {
  const held = new Set<ServerResponse>();

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const requestId = newRequestId();
    const rawBody = await readBody(req);
    const url = new URL(req.url ?? "/", "http://stripe-fake.invalid");
    const method = (req.method ?? "GET").toUpperCase();
    const headers = lowerCaseHeaders(req);
    const query = parseStripeForm(url.search.slice(1));
    const isForm = (headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded");
    const body = isForm ? parseStripeForm(rawBody) : {};
    const key = headers["idempotency-key"] ?? null;
    const record: RecordedRequest = {
      id: requestId,
      method,
      path: url.pathname,
      query,
      body,
      rawBody,
      headers,
      idempotencyKey: key,
      status: "timeout",
      replayed: false,
      injected: null,
      time: deps.ctx.clock.nowMs(),
    };
    deps.requests.push(record);
    deps.beforeRequest();

    const hold = () => {
      // Never answer: the client's own timeout decides when to give up.
      held.add(res);
      res.on("close", () => held.delete(res));
    };
    const answer = (outcome: Outcome) => {
      record.status = outcome.status;
      record.replayed = outcome.replayed ?? false;
      res.writeHead(outcome.status, {
        "Content-Type": outcome.headers["Content-Type"] ?? "application/json",
        "Request-Id": requestId,
        "Stripe-Version": headers["stripe-version"] ?? deps.ctx.apiVersion,
        ...(key && method === "POST" && { "Idempotency-Key": key }),
        ...outcome.headers,
      });
      res.end(outcome.body);
    };

    const failure = deps.failures.take(url.pathname);
    record.injected = failure ?? null;
    if (failure === "timeout") return hold();
    if (typeof failure === "object") {
      const retryAfter = failure.retryAfterSeconds;
      return answer({
        status: failure.status,
        body: json(injectedFailureBody(failure.status)),
        headers: retryAfter !== undefined ? { "Retry-After": String(retryAfter) } : {},
      });
    }
    const params = { ...query, ...body };
    const { rules } = deps.ctx;
    const pair =
      method === "POST" && url.pathname === METER_EVENTS_PATH ? meterEventPair(deps.ctx, params) : null;
    if (pair !== null) {
      if (deps.ctx.store.meterEventsInFlight.has(pair) && rules.concurrentCustomerCalls === "reject") {
        return answer(concurrentCallRefused());
      }
      // In flight from here until the answer is sent (or the client gives up on a held request).
      const inFlight = deps.ctx.store.meterEventsInFlight;
      inFlight.add(pair);
      res.on("close", () => inFlight.delete(pair));
    }
    const outcome = route(deps, req, method, url.pathname, params, requestId, key);
    if (failure === "timeout-after-processing") {
      // Stripe finished the call; only its answer is lost on the way back.
      if (pair !== null) deps.ctx.store.meterEventsInFlight.delete(pair);
      return hold();
    }
    if (pair !== null && rules.meterEventLatencyMs > 0) {
      await new Promise((resolve) => setTimeout(resolve, rules.meterEventLatencyMs));
    }
    answer(outcome);
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      console.error("[stripe-fake]", error);
      if (!res.headersSent) res.writeHead(500, { "Content-Type": "application/json" });
      res.end(json({ error: { type: "api_error", message: "Fake Stripe internal error." } }));
    });
  });

  return {
    server,
    closeConnections() {
      for (const res of held) res.socket?.destroy();
      held.clear();
      server.closeAllConnections();
    },
  };
}
