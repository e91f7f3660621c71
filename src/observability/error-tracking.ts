/**
 * Error tracking with Sentry's Workers SDK (@sentry/cloudflare), off unless SENTRY_DSN is set.
 *
 * What is reported: every 5xx the API answers (from `renderError`, with the request id, route, code
 * and release as tags), anything thrown past Hono, and out of the cron handler (the SDK's own
 * `withSentry` wrapper); each cron task's run as a check-in of a Sentry cron monitor. 4xx answers
 * are the caller's mistakes and are never reported.
 *
 * Requests are not wrapped by `withSentry`: its per-request work (an isolation scope, a span, a
 * flush of the client after every response) measured about 1.2 ms of CPU on every successful
 * request in `npm run bench` (15 times what GET /health costs). Instead one SDK client per isolate
 * (`CloudflareClient`, the SDK's own, with its options) captures the failed requests only, and
 * its flush is handed to `waitUntil`; a successful request does no Sentry work at all. The cron
 * handler, once a minute, keeps the SDK's wrapper.
 *
 * What is never sent: request headers (Authorization, cookies), bodies (customer documents and
 * schemas), query strings, breadcrumbs (log lines, outgoing URLs), user data, and any string equal
 * to a configured secret or shaped like a credential (API key, bearer token, JWT, Stripe key):
 * `scrubEvent` removes them from every event before it leaves, whatever captured it. Tracing is off
 * (no transactions).
 */
import {
  CloudflareClient,
  type CloudflareOptions,
  captureCheckIn,
  createTransport,
  type ErrorEvent,
  functionToStringIntegration,
  linkedErrorsIntegration,
  Scope,
  withSentry,
} from "@sentry/cloudflare";
import { createStackParser } from "@sentry/core";
import { nodeStackLineParser } from "@sentry/core/server";
import { API_VERSION } from "../api-version";
import type { Env } from "../config";

/** Release reported when SENTRY_RELEASE is not set (deploys set it to the commit; docs/deploy.md). */
export const DEFAULT_RELEASE = `schema-meter@${API_VERSION}`;

/** Settings whose values are credentials: they are redacted from anything sent to Sentry. */
const SECRET_SETTING = /TOKEN|SECRET|KEY|JWK|DSN/;

/** Credential shapes redacted wherever they appear in an event's text. */
const CREDENTIAL_PATTERNS: readonly RegExp[] = [
  /\bsm_[a-z0-9]{10}_[A-Za-z0-9_-]{10,}/g, // API keys
  /\b(?:sk|rk|pk|whsec)_(?:live|test)?_?[A-Za-z0-9]{8,}/g, // Stripe keys and signing secrets
  /\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g, // JWTs (access tokens)
  /\b(Bearer|Basic)\s+[^\s"',;]+/gi, // Authorization values
];

const REDACTED = "[redacted]";

/** The cron monitors, one per scheduled task (wrangler.toml runs them every minute). */
export const CRON_MONITORS = {
  flush: "schema-meter-usage-flush",
  graceExpiry: "schema-meter-grace-expiry",
  dunning: "schema-meter-dunning-emails",
} as const;

const MONITOR_CONFIG = {
  schedule: { type: "crontab", value: "* * * * *" },
  checkinMargin: 2,
  maxRuntime: 5,
  timezone: "Etc/UTC",
} as const;

/** The credential values of this deployment's configuration, longest first (so none is left half-redacted). */
function secretValuesOf(env: Env): string[] {
  return Object.entries(env)
    .filter(([name, value]) => SECRET_SETTING.test(name) && typeof value === "string" && value.length >= 8)
    .map(([, value]) => value as string)
    .sort((a, b) => b.length - a.length);
}

/** `text` without any configured secret or credential-shaped substring. */
export function redact(text: string, secrets: readonly string[]): string {
  let clean = text;
  for (const secret of secrets) clean = clean.split(secret).join(REDACTED);
  for (const pattern of CREDENTIAL_PATTERNS) {
    clean = clean.replace(pattern, (_match, scheme?: string) =>
      typeof scheme === "string" && /^(bearer|basic)$/i.test(scheme) ? `${scheme} ${REDACTED}` : REDACTED,
    );
  }
  return clean;
}

function redactDeep(value: unknown, secrets: readonly string[], depth = 0): unknown {
  if (typeof value === "string") return redact(value, secrets);
  if (depth > 12 || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((item) => redactDeep(item, secrets, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) out[key] = redactDeep(item, secrets, depth + 1);
  return out;
}

/**
 * The event as it may leave: the request reduced to its method and path, no breadcrumbs, no user,
 * and every string cleaned of secrets. Applied to every event (`beforeSend`).
 */
export function scrubEvent(event: ErrorEvent, secrets: readonly string[]): ErrorEvent {
  if (event.request) {
    const { method, url } = event.request;
    event.request = { method, url: url === undefined ? undefined : url.replace(/[?#].*$/s, "") };
  }
  delete event.breadcrumbs;
  delete event.user;
  delete event.extra;
  return redactDeep(event, secrets) as ErrorEvent;
}

/** The SDK options for this deployment; undefined (Sentry off) without SENTRY_DSN. */
export function errorTrackingOptions(env: Env): CloudflareOptions | undefined {
  if (!env.SENTRY_DSN) return undefined;
  const secrets = secretValuesOf(env);
  return {
    dsn: env.SENTRY_DSN,
    release: env.SENTRY_RELEASE || DEFAULT_RELEASE,
    environment: env.SENTRY_ENVIRONMENT || "production",
    // Collect nothing about the caller: no user, cookies, headers, bodies, query strings, locals.
    dataCollection: {
      userInfo: false,
      cookies: false,
      httpHeaders: false,
      httpBodies: [],
      urlQueryParams: false,
      databaseQueryData: false,
      stackFrameVariables: false,
      graphQL: { document: false, variables: false },
      genAI: { inputs: false, outputs: false },
    },
    // No tracing: a transaction would carry URLs and headers, and cost every request.
    tracesSampleRate: 0,
    beforeSendTransaction: () => null,
    // Only integrations that add nothing about the request: no request data, console or fetch
    // breadcrumbs, no request body capture. No dedupe either: each failed request is one event (up to
    // EVENTS_PER_ISSUE_PER_MINUTE), the count the alert is set on (docs/deploy.md, "Error tracking").
    defaultIntegrations: [functionToStringIntegration(), linkedErrorsIntegration()],
    maxBreadcrumbs: 0,
    beforeSend: (event) => scrubEvent(event, secrets),
  };
}

/** What `renderError` knows about a request that ended in a 5xx. */
export interface ServerErrorReport {
  requestId: string;
  method: string;
  /** The matched route pattern (`/v1/schemas/:name`), never the concrete path with its values. */
  route: string;
  status: number;
  code: string;
}

/** Budget of one send to Sentry (in `waitUntil`, after the response). */
const SEND_TIMEOUT_MS = 5000;

/** Workers stack traces are V8's, as Node's (the SDK parses them the same way). */
const stackParser = createStackParser(nodeStackLineParser());

/** One client per configuration, i.e. per isolate; none when Sentry is off. */
const clients = new WeakMap<object, CloudflareClient>();

function clientFor(env: Env): CloudflareClient | undefined {
  if (!env?.SENTRY_DSN) return undefined;
  let client = clients.get(env);
  const options = client ? undefined : errorTrackingOptions(env);
  if (options) {
    client = new CloudflareClient({
      ...options,
      integrations: options.defaultIntegrations || [],
      stackParser,
      transport: (transportOptions) =>
        createTransport(transportOptions, async (request) => {
          const response = await fetch(transportOptions.url, {
            method: "POST",
            body: request.body as BodyInit,
            headers: transportOptions.headers,
            signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
          });
          await response.body?.cancel();
          return {
            statusCode: response.status,
            headers: {
              "x-sentry-rate-limits": response.headers.get("X-Sentry-Rate-Limits"),
              "retry-after": response.headers.get("Retry-After"),
            },
          };
        }),
    });
    client.init();
    clients.set(env, client);
  }
  return client;
}

/**
 * Events per issue (method, route, code) an isolate sends per minute. An outage fails every
 * request alike: past this the isolate counts instead of sending (no Sentry quota burnt, no send
 * per failed request), and its next event of that issue carries `suppressed` (how many it stood
 * for). The exact counts are on GET /admin/metrics and in the request log.
 */
export const EVENTS_PER_ISSUE_PER_MINUTE = 10;
const issueWindows = new Map<string, { startedMs: number; sent: number; suppressed: number }>();

/** Whether this event may be sent now, and how many suppressed ones it stands for. */
function admitEvent(issue: string, nowMs: number): { send: boolean; suppressed: number } {
  let window = issueWindows.get(issue);
  if (!window || nowMs - window.startedMs >= 60_000) {
    const carried = window?.suppressed ?? 0;
    if (issueWindows.size > 1000) issueWindows.clear(); // bounded: routes × codes is far fewer
    window = { startedMs: nowMs, sent: 0, suppressed: carried };
    issueWindows.set(issue, window);
  }
  if (window.sent >= EVENTS_PER_ISSUE_PER_MINUTE) {
    window.suppressed++;
    return { send: false, suppressed: 0 };
  }
  window.sent++;
  const suppressed = window.suppressed;
  window.suppressed = 0;
  return { send: true, suppressed };
}

/**
 * Reports a 5xx to Sentry and hands the send to `waitUntil` (the response is not held up); a
 * no-op when Sentry is off. Never called for a 4xx.
 */
export function reportServerError(
  env: Env,
  waitUntil: ((promise: Promise<unknown>) => void) | undefined,
  error: unknown,
  report: ServerErrorReport,
): void {
  const client = clientFor(env);
  if (!client) return;
  const admitted = admitEvent(`${report.method} ${report.route} ${report.code}`, Date.now());
  if (!admitted.send) return;
  const scope = new Scope();
  scope.setClient(client);
  scope.setTags({
    request_id: report.requestId,
    route: report.route,
    method: report.method,
    status: report.status,
    code: report.code,
    ...(admitted.suppressed > 0 && { suppressed: admitted.suppressed }),
  });
  scope.setTransactionName(`${report.method} ${report.route}`);
  // One issue per route and code, whatever the message says.
  scope.setFingerprint([report.method, report.route, report.code]);
  client.captureException(error, { mechanism: { type: "schema-meter.server-error", handled: true } }, scope);
  const sending = client.flush(SEND_TIMEOUT_MS).catch(() => false);
  if (waitUntil) waitUntil(sending);
}

/**
 * Runs one cron task as a check-in of its Sentry cron monitor: in progress, then ok, or error
 * when the task threw or could not run (`null`: configuration invalid). A no-op without Sentry.
 */
export async function monitoredRun<T>(slug: string, run: () => Promise<T | null>): Promise<T | null> {
  const checkInId = captureCheckIn({ monitorSlug: slug, status: "in_progress" }, MONITOR_CONFIG);
  const started = Date.now();
  const finish = (status: "ok" | "error") =>
    captureCheckIn({ checkInId, monitorSlug: slug, status, duration: (Date.now() - started) / 1000 });
  try {
    const result = await run();
    finish(result === null ? "error" : "ok");
    return result;
  } catch (error) {
    finish("error");
    throw error;
  }
}

/** The Worker's two entry points (tests call `scheduled` without an execution context). */
interface WorkerHandler {
  fetch: ExportedHandlerFetchHandler<Env>;
  scheduled(controller: ScheduledController, env: Env, ctx?: ExecutionContext): Promise<void>;
}

/**
 * The Worker's handlers: requests report what escapes the app (renderError reports the rest), the
 * cron handler is wrapped by the SDK when SENTRY_DSN is set. Untouched with Sentry off.
 */
export function withErrorTracking(handler: WorkerHandler): WorkerHandler {
  // withSentry instruments the object it is given in place: give it one of its own.
  const trackedCron = withSentry<Env>((env) => errorTrackingOptions(env), {
    scheduled: (controller, env, ctx) => handler.scheduled(controller, env, ctx),
  } satisfies ExportedHandler<Env>) as Required<Pick<WorkerHandler, "scheduled">>;
  const fetchReporting: WorkerHandler["fetch"] = async (request, env, ctx) => {
    try {
      return await handler.fetch(request, env, ctx);
    } catch (error) {
      reportServerError(env, (promise) => ctx.waitUntil(promise), error, {
        requestId: request.headers.get("X-Request-Id") ?? "unknown",
        method: request.method,
        route: "(unhandled)",
        status: 500,
        code: "UNHANDLED",
      });
      throw error;
    }
  };
  return {
    fetch: (request, env, ctx) =>
      env.SENTRY_DSN ? fetchReporting(request, env, ctx) : handler.fetch(request, env, ctx),
    scheduled: (controller, env, ctx) =>
      env.SENTRY_DSN && ctx
        ? trackedCron.scheduled(controller, env, ctx)
        : handler.scheduled(controller, env, ctx),
  };
}
