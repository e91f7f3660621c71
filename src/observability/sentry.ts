/**
 * The Sentry SDK side of error tracking (see ./error-tracking.ts, which imports this file on first
 * use so that an isolate with Sentry off, or serving only successes, never evaluates the SDK).
 */
import {
  CloudflareClient,
  type CloudflareOptions,
  captureCheckIn,
  createTransport,
  functionToStringIntegration,
  linkedErrorsIntegration,
  Scope,
  withSentry,
} from "@sentry/cloudflare";
import { createStackParser } from "@sentry/core";
import { nodeStackLineParser } from "@sentry/core/server";
import type { Env } from "../config";
import { DEFAULT_RELEASE, type ServerErrorReport, scrubEvent, secretValuesOf } from "./error-tracking";

const MONITOR_CONFIG = {
  schedule: { type: "crontab", value: "* * * * *" },
  checkinMargin: 2,
  maxRuntime: 5,
  timezone: "Etc/UTC",
} as const;

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

/** Captures one admitted 5xx and flushes it; resolves when sent (or given up). */
export function sendServerError(
  env: Env,
  error: unknown,
  report: ServerErrorReport,
  suppressed: number,
): Promise<boolean> {
  const client = clientFor(env);
  if (!client) return Promise.resolve(false);
  const scope = new Scope();
  scope.setClient(client);
  scope.setTags({
    request_id: report.requestId,
    route: report.route,
    method: report.method,
    status: report.status,
    code: report.code,
    ...(suppressed > 0 && { suppressed }),
  });
  scope.setTransactionName(`${report.method} ${report.route}`);
  // One issue per route and code, whatever the message says.
  scope.setFingerprint([report.method, report.route, report.code]);
  client.captureException(error, { mechanism: { type: "schema-meter.server-error", handled: true } }, scope);
  return client.flush(SEND_TIMEOUT_MS).catch(() => false);
}

/** One cron task as a check-in of its monitor (in progress, then ok or error). */
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

type ScheduledHandler = (controller: ScheduledController, env: Env, ctx: ExecutionContext) => Promise<void>;

/** The cron handler wrapped by the SDK (`withSentry`), which instruments the object it is given in place. */
export function trackedScheduled(
  scheduled: (controller: ScheduledController, env: Env, ctx?: ExecutionContext) => Promise<void>,
): ScheduledHandler {
  const tracked = withSentry<Env>((env) => errorTrackingOptions(env), {
    scheduled: (controller, env, ctx) => scheduled(controller, env, ctx),
  } satisfies ExportedHandler<Env>) as { scheduled: ScheduledHandler };
  return (controller, env, ctx) => tracked.scheduled(controller, env, ctx);
}
