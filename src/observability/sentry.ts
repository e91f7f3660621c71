/**
 * The Sentry SDK side of error tracking (see ./error-tracking.ts, which imports this file on first
 * use so that an isolate with Sentry off, or serving only successes, never evaluates the SDK).
 *
 * Built on @sentry/core alone: its ServerRuntimeClient is what @sentry/cloudflare's own client
 * extends (with span and tracing machinery this service turns off), and the cron wrapper is a few
 * lines here. @sentry/cloudflare, with the OpenTelemetry API it brings, was about 80 KiB of every
 * isolate's bundle for nothing the Worker uses.
 */
import {
  type CheckIn,
  createStackParser,
  createTransport,
  functionToStringIntegration,
  linkedErrorsIntegration,
  type Options,
  Scope,
} from "@sentry/core";
import {
  nodeStackLineParser,
  ServerRuntimeClient,
  type ServerRuntimeClientOptions,
} from "@sentry/core/server";
import type { Env } from "../config";
import { DEFAULT_RELEASE, type ServerErrorReport, scrubEvent, secretValuesOf } from "./error-tracking";

const MONITOR_CONFIG = {
  schedule: { type: "crontab", value: "* * * * *" },
  checkinMargin: 2,
  maxRuntime: 5,
  timezone: "Etc/UTC",
} as const;

/** The SDK options for this deployment; undefined (Sentry off) without SENTRY_DSN. */
export function errorTrackingOptions(env: Env): Options | undefined {
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
const clients = new WeakMap<object, ServerRuntimeClient>();

function clientFor(env: Env): ServerRuntimeClient | undefined {
  if (!env?.SENTRY_DSN) return undefined;
  let client = clients.get(env);
  const options = client ? undefined : errorTrackingOptions(env);
  if (options) {
    const clientOptions: ServerRuntimeClientOptions = {
      ...options,
      platform: "javascript",
      runtime: { name: "cloudflare" },
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
      // No idle timer flushing log and metric buffers: none are kept, and a timer outside a request
      // is not run by Workers (as @sentry/cloudflare sets it).
      _flushInterval: 0,
    };
    client = new ServerRuntimeClient(clientOptions);
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
  return Promise.resolve(client.flush(SEND_TIMEOUT_MS)).catch(() => false);
}

/** One cron task as a check-in of its monitor (in progress, then ok or error). */
export async function monitoredRun<T>(
  env: Env,
  slug: string,
  run: () => Promise<T | null>,
): Promise<T | null> {
  const client = clientFor(env);
  if (!client) return run();
  const checkIn = (status: CheckIn["status"], more: Partial<CheckIn> = {}) =>
    client.captureCheckIn(
      { monitorSlug: slug, status, ...more } as CheckIn,
      status === "in_progress" ? MONITOR_CONFIG : undefined,
    );
  const checkInId = checkIn("in_progress");
  const started = Date.now();
  const finish = (status: "ok" | "error") =>
    checkIn(status, { checkInId, duration: (Date.now() - started) / 1000 });
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

/**
 * The cron handler, tracked: what it throws is captured (then thrown on, as before), and the
 * client's check-ins and events are flushed through `waitUntil` once it is done.
 */
export function trackedScheduled(
  scheduled: (controller: ScheduledController, env: Env, ctx?: ExecutionContext) => Promise<void>,
): ScheduledHandler {
  return async (controller, env, ctx) => {
    const client = clientFor(env);
    try {
      await scheduled(controller, env, ctx);
    } catch (error) {
      if (client) {
        const scope = new Scope();
        scope.setClient(client);
        scope.setTags({ cron: controller.cron });
        client.captureException(error, { mechanism: { type: "schema-meter.cron", handled: false } }, scope);
      }
      throw error;
    } finally {
      if (client) ctx.waitUntil(Promise.resolve(client.flush(SEND_TIMEOUT_MS)).catch(() => false));
    }
  };
}
