/**
 * GET /admin/metrics: what the operator watches, in one answer (docs/deploy.md, "Metrics"): this
 * isolate's requests by status and admission fallbacks, the Stripe breaker, the usage flusher's
 * lag, dead-lettered batches, recent failed payments and the dunning e-mail outbox. Each shared
 * source is read within the readiness budget; one that does not answer is null, the others are
 * still shown.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { dunningOutboxSummary } from "../billing/dunning-outbox";
import { listUsageBatches } from "../billing/usage-batches";
import { listStripeEvents } from "../billing/webhooks/apply-webhook";
import type { AppBindings } from "../env";
import { describeError, log } from "../lib/log";
import { withTimeout } from "../lib/timeout";
import { admissionStats } from "../metering/admit";
import { requireAdmin } from "../middleware/admin";
import { requestCounts } from "../observability/request-counters";
import { adminRefusals, jsonResponse } from "../openapi/responses";
import { newRouter } from "../openapi/router";
import { admissionSchema, breakerSchema, READINESS_TIMEOUT_MS, stripeBreakerState } from "./health";

/** Dead batches counted at most (list_usage_batches' own cap). */
const DEAD_BATCH_SCAN = 1000;
/** Most recent Stripe events scanned for failed payments (list_billing_events' own cap). */
const EVENT_SCAN = 500;
const HOUR_MS = 3_600_000;

const requestsSchema = z
  .object({
    since: z.string().describe("When this isolate started counting (UTC)"),
    total: z.number().int(),
    by_status: z.record(z.string(), z.number().int()).describe("Status code to count"),
    client_errors: z.number().int().describe("4xx answers (never reported to Sentry)"),
    server_errors: z.number().int().describe("5xx answers"),
    server_error_rate: z.number().describe("server_errors / total; alert above 0.001"),
  })
  .describe("This isolate's answers since it started (a sample of the fleet: read the rate)");

const flushSchema = z
  .object({
    backlog_entries: z
      .number()
      .int()
      .describe("Usage not in Postgres yet: stream entries not drained, and usage buckets still in Redis"),
    lag_seconds: z
      .number()
      .nullable()
      .describe("Age of the oldest of them (null when none); normal is under FLUSH_SEAL_SECONDS + 60"),
  })
  .nullable()
  .describe("The usage flusher's lag; null if Redis did not answer");

const deadSchema = z
  .object({
    count: z.number().int(),
    at_least: z.boolean().describe(`True when there are ${DEAD_BATCH_SCAN} or more`),
  })
  .nullable()
  .describe("Dead-lettered usage batches waiting for an operator; null if Postgres did not answer");

const paymentsSchema = z
  .object({
    last_hour: z.number().int(),
    last_24_hours: z.number().int(),
    complete: z
      .boolean()
      .describe(
        `False when the ${EVENT_SCAN} most recent events do not reach back 24 hours: the counts are lower bounds`,
      ),
  })
  .nullable()
  .describe("invoice.payment_failed events received; null if Postgres did not answer");

const dunningSchema = z
  .object({
    pending: z
      .number()
      .int()
      .describe("Dunning e-mails not sent yet (new, or retrying after a provider failure)"),
    oldest_pending_at: z
      .string()
      .nullable()
      .describe("When the oldest of them was recorded (UTC); older than a few minutes: Resend is failing"),
    dead: z
      .number()
      .int()
      .describe("Given up after DUNNING_MAX_ATTEMPTS: the customer was not told; alert above 0"),
    sent_last_24_hours: z.number().int(),
  })
  .nullable()
  .describe(
    "The dunning e-mail outbox (payment failed, grace reminder, payment received); null if Postgres did not answer",
  );

const metricsSchema = z.object({
  generated_at: z.string(),
  requests: requestsSchema,
  admission: admissionSchema,
  stripe_breaker: breakerSchema,
  usage_flush: flushSchema,
  dead_lettered_batches: deadSchema,
  payment_failures: paymentsSchema,
  dunning_emails: dunningSchema,
});

type Services = AppBindings["Variables"]["services"];

/** A shared source read within the budget; null (and a log line) when it does not answer. */
async function bounded<T>(name: string, read: () => Promise<T>): Promise<T | null> {
  try {
    return await withTimeout(name, READINESS_TIMEOUT_MS, read);
  } catch (error) {
    log("warn", "metrics source unavailable", { source: name, error: describeError(error) });
    return null;
  }
}

async function usageFlush(redis: Services["redis"], nowMs: number): Promise<z.infer<typeof flushSchema>> {
  return bounded("usage stream", async () => {
    const { entries, oldestEntryMs } = await redis.usageStreamBacklog();
    const lag = oldestEntryMs == null || entries === 0 ? null : Math.max(0, (nowMs - oldestEntryMs) / 1000);
    return { backlog_entries: entries, lag_seconds: lag === null ? null : Math.round(lag) };
  });
}

async function paymentFailures(db: Services["db"], nowMs: number): Promise<z.infer<typeof paymentsSchema>> {
  return bounded("billing events", async () => {
    const events = await listStripeEvents(db, { limit: EVENT_SCAN });
    const ages = events
      .filter((event) => event.type === "invoice.payment_failed")
      .map((event) => nowMs - Date.parse(event.created_at));
    const oldest = events.at(-1);
    return {
      last_hour: ages.filter((age) => age <= HOUR_MS).length,
      last_24_hours: ages.filter((age) => age <= 24 * HOUR_MS).length,
      complete:
        events.length < EVENT_SCAN ||
        (oldest !== undefined && nowMs - Date.parse(oldest.created_at) > 24 * HOUR_MS),
    };
  });
}

const metricsRoute = createRoute({
  method: "get",
  path: "/admin/metrics",
  summary: "What the operator watches (operators)",
  description:
    "Requests by status and admission fallbacks (this isolate), the Stripe breaker, the usage flusher's lag, dead-lettered batches, failed payments and the dunning e-mail outbox. A source that does not answer within 1 s is null. Needs ADMIN_TOKEN.",
  tags: ["Operations"],
  security: [{ adminToken: [] }],
  middleware: [requireAdmin()] as const,
  responses: {
    200: jsonResponse("The figures", metricsSchema, {
      example: {
        generated_at: "2026-12-01T12:00:00.000Z",
        requests: {
          since: "2026-12-01T11:00:00.000Z",
          total: 1250,
          by_status: { "200": 1200, "401": 40, "429": 9, "503": 1 },
          client_errors: 49,
          server_errors: 1,
          server_error_rate: 0.0008,
        },
        admission: { live: 1190, fallback_served: 2, fallback_refused: 0, fallback_rate: 0.0017 },
        stripe_breaker: { state: "closed", consecutive_failures: 0, open_until: null },
        usage_flush: { backlog_entries: 42, lag_seconds: 35 },
        dead_lettered_batches: { count: 0, at_least: false },
        payment_failures: { last_hour: 0, last_24_hours: 2, complete: true },
        dunning_emails: { pending: 0, oldest_pending_at: null, dead: 0, sent_last_24_hours: 3 },
      },
    }),
    ...adminRefusals,
  },
});

export const adminMetricsRoutes = newRouter().openapi(metricsRoute, async (c) => {
  const { redis, db } = c.get("services");
  const nowMs = Date.now();
  const [breaker, flush, dead, payments, dunning] = await Promise.all([
    stripeBreakerState(redis, c.get("config")),
    usageFlush(redis, nowMs),
    bounded("usage batches", async () => {
      const batches = await listUsageBatches(db, { status: "dead", limit: DEAD_BATCH_SCAN });
      return { count: batches.length, at_least: batches.length >= DEAD_BATCH_SCAN };
    }),
    paymentFailures(db, nowMs),
    bounded("dunning outbox", () => dunningOutboxSummary(db)),
  ]);
  const body: z.infer<typeof metricsSchema> = {
    generated_at: new Date(nowMs).toISOString(),
    requests: requestCounts(),
    admission: admissionStats(),
    stripe_breaker: breaker,
    usage_flush: flush,
    dead_lettered_batches: dead,
    payment_failures: payments,
    dunning_emails: dunning,
  };
  return c.json(body, 200, { "Cache-Control": "no-store" });
});
