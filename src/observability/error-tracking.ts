/**
 * Error tracking with Sentry's JavaScript SDK core (@sentry/core), off unless SENTRY_DSN is set.
 *
 * What is reported: every 5xx the API answers (from `renderError`, with the request id, route, code
 * and release as tags), anything thrown past Hono, and out of the cron handler (trackedScheduled);
 * each cron task's run as a check-in of a Sentry cron monitor. 4xx answers
 * are the caller's mistakes and are never reported.
 *
 * Requests are not wrapped per request (as @sentry/cloudflare's `withSentry` does: an isolation
 * scope, a span and a flush after every response measured about 1.2 ms of CPU on every successful
 * request in `npm run bench`, 15 times what GET /health costs). Instead one SDK client per isolate
 * (core's `ServerRuntimeClient`, which the Workers SDK's own client extends) captures the failed
 * requests only, and its flush is handed to `waitUntil`; a successful request does no Sentry work
 * at all. The cron handler, once a minute, flushes after each run.
 *
 * The SDK itself lives in ./sentry.ts and is imported on first use (a 5xx, or a cron run, with
 * SENTRY_DSN set): with Sentry off, or on a request that succeeds, the isolate never evaluates it
 * (it is about a tenth of the bundle).
 *
 * What is never sent: request headers (Authorization, cookies), bodies (customer documents and
 * schemas), query strings, breadcrumbs (log lines, outgoing URLs), user data, and any string equal
 * to a configured secret or shaped like a credential (API key, bearer token, JWT, Stripe key):
 * `scrubEvent` removes them from every event before it leaves, whatever captured it. Tracing is off
 * (no transactions).
 */
import type { ErrorEvent } from "@sentry/core";
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

/** The credential values of this deployment's configuration, longest first (so none is left half-redacted). */
export function secretValuesOf(env: Env): string[] {
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

/** What `renderError` knows about a request that ended in a 5xx. */
export interface ServerErrorReport {
  requestId: string;
  method: string;
  /** The matched route pattern (`/v1/schemas/:name`), never the concrete path with its values. */
  route: string;
  status: number;
  code: string;
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

/** The SDK side (./sentry.ts), imported once per isolate on first use. */
let sdk: Promise<typeof import("./sentry")> | undefined;
function loadSdk(): Promise<typeof import("./sentry")> {
  sdk ??= import("./sentry").catch((error: unknown) => {
    sdk = undefined; // a failed import is retried next time
    throw error;
  });
  return sdk;
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
  if (!env?.SENTRY_DSN) return;
  const admitted = admitEvent(`${report.method} ${report.route} ${report.code}`, Date.now());
  if (!admitted.send) return;
  const sending = loadSdk()
    .then((sentry) => sentry.sendServerError(env, error, report, admitted.suppressed))
    .catch(() => false);
  if (waitUntil) waitUntil(sending);
}

/**
 * Runs one cron task as a check-in of its Sentry cron monitor: in progress, then ok, or error
 * when the task threw or could not run (`null`: configuration invalid). Just runs it without Sentry.
 */
export async function monitoredRun<T>(
  env: Env,
  slug: string,
  run: () => Promise<T | null>,
): Promise<T | null> {
  if (!env.SENTRY_DSN) return run();
  return (await loadSdk()).monitoredRun(env, slug, run);
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
  let trackedCron: Promise<WorkerHandler["scheduled"]> | undefined;
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
    scheduled: async (controller, env, ctx) => {
      if (!env.SENTRY_DSN || !ctx) return handler.scheduled(controller, env, ctx);
      trackedCron ??= loadSdk().then((sentry) => sentry.trackedScheduled(handler.scheduled));
      return (await trackedCron)(controller, env, ctx);
    },
  };
}
