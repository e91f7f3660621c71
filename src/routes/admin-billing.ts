import { createRoute, z } from "@hono/zod-openapi";
import { flushSettingsOf } from "../billing/flush-run";
import { flushUsage } from "../billing/flusher";
import { reconcileUsage } from "../billing/reconciliation";
import {
  compareWithStripe,
  correctStripeDifferences,
  DEFAULT_STRIPE_SETTLE_MINUTES,
} from "../billing/stripe-reconciliation";
import { requeueUsageBatch, usageBatchSchema } from "../billing/usage-batches";
import { ApiError } from "../errors";
import { requireAdmin } from "../middleware/admin";
import { adminRefusals, dependencyUnavailable, jsonResponse, problemResponse } from "../openapi/responses";
import { newRouter } from "../openapi/router";

/** A UTC date (`2026-05-01`) or date-time (`2026-05-01T00:00:00Z`). */
const instant = z
  .string()
  .regex(
    /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/,
    "must be an ISO 8601 UTC date or date-time",
  )
  .transform((text) => new Date(text.length === 10 ? `${text}T00:00:00Z` : text));

const rangeFields = {
  from: instant.describe("Start (inclusive): an ISO 8601 date or UTC date-time"),
  to: instant.describe("End (exclusive): an ISO 8601 date or UTC date-time"),
  customer: z
    .string()
    .regex(/^[A-Za-z0-9_]{1,255}$/)
    .optional()
    .describe("Only this Stripe customer"),
  settle_minutes: z.coerce
    .number()
    .int()
    .min(0)
    .max(10_080)
    .optional()
    .describe(
      `Stripe comparison only: compare windows that ended at least this long ago, since Stripe aggregates meter events asynchronously (default ${DEFAULT_STRIPE_SETTLE_MINUTES})`,
    ),
};

const reconciliationQuery = z
  .object({
    ...rangeFields,
    stripe: z
      .enum(["0", "1", "true", "false"])
      .optional()
      .describe("1: also compare the ledger with Stripe's meter event summaries (member `stripe`)"),
  })
  .refine((q) => q.from < q.to, { message: "from must be before to", path: ["from"] });

const correctionQuery = z
  .object(rangeFields)
  .refine((q) => q.from < q.to, { message: "from must be before to", path: ["from"] });

const stripeComparisonSchema = z
  .object({
    meter: z.string().nullable(),
    settle_minutes: z.number(),
    compared_until: z.string(),
    matches: z
      .boolean()
      .describe(
        "No window differs and Stripe answered for every one (not_settled windows are not concluded)",
      ),
    differences: z.number(),
    rows: z.array(
      z
        .object({
          stripe_customer_id: z.string(),
          period: z.string(),
          ledger_reported: z.number(),
          stripe_aggregated: z.number().nullable(),
          difference: z.number().nullable().describe("Stripe minus ledger"),
          status: z.enum([
            "match",
            "difference",
            "not_settled",
            "correction_pending",
            "too_old_to_correct",
            "unavailable",
          ]),
        })
        .loose(),
    ),
  })
  .loose();

const flushReportSchema = z
  .object({
    run_id: z.string(),
    sent: z.number(),
    units_sent: z.number(),
    dead_lettered: z.number(),
    stopped: z.string(),
  })
  .loose();

const reconciliationSchema = z
  .object({
    from: z.string(),
    to: z.string(),
    balanced: z
      .boolean()
      .describe(
        "Both checks hold: the ledger (admitted - compensated = reported + pending + dead_lettered, for every row) and answered_check (units answered 2xx = units billed, nothing stuck)",
      ),
    ledger_balanced: z
      .boolean()
      .describe(
        "admitted - compensated = reported + pending + dead_lettered for every row, batches consistent",
      ),
    answered_check: z
      .object({
        balanced: z.boolean(),
        status: z.enum(["balanced", "not_compared", "mismatch", "in_flight", "unavailable"]),
        days_compared: z.object({ from: z.string(), to: z.string() }).nullable(),
        rows: z.array(z.object({}).loose()),
      })
      .loose()
      .describe(
        "Units the Worker answered 2xx (counted after each response) against units billed, per customer and month over the whole UTC days compared; unsent: usage older than 15 minutes not yet in Stripe",
      ),
    rows: z.array(z.object({}).loose()),
    stripe: stripeComparisonSchema
      .optional()
      .describe("With stripe=1: the ledger against Stripe's meter event summaries"),
  })
  .loose();

const adminErrors = {
  ...adminRefusals,
  ...dependencyUnavailable(),
  404: problemResponse("ADMIN_TOKEN is not configured"),
};

const flushRoute = createRoute({
  method: "post",
  path: "/admin/flush",
  summary: "Run the usage flusher now",
  description:
    "What the cron trigger does every minute: moves usage from the stream to the ledger and reports meter events to Stripe, within the run's budgets. Returns the run's report.",
  tags: ["Operations"],
  security: [{ adminToken: [] }],
  middleware: [requireAdmin()] as const,
  responses: { 200: jsonResponse("The run's report", flushReportSchema), ...adminErrors },
});

const reconciliationRoute = createRoute({
  method: "get",
  path: "/admin/reconciliation",
  summary: "Billing reconciliation per customer and month",
  description:
    "Units admitted, compensated, reported, pending and dead-lettered for usage that occurred in [from, to), per Stripe customer and UTC month, and whether they balance. `from`/`to`: ISO 8601 dates or UTC date-times; `customer` narrows to one Stripe customer.",
  tags: ["Operations"],
  security: [{ adminToken: [] }],
  middleware: [requireAdmin()] as const,
  request: { query: reconciliationQuery },
  responses: {
    200: jsonResponse("The reconciliation", reconciliationSchema),
    400: problemResponse("Malformed query"),
    ...adminErrors,
  },
});

const correctionRoute = createRoute({
  method: "post",
  path: "/admin/reconciliation/correct",
  summary: "Send the meter events that make Stripe agree with the ledger",
  description:
    "Compares the ledger with Stripe's meter event summaries (as GET /admin/reconciliation?stripe=1) and, for each window that differs, sends one correcting meter event (ledger minus Stripe, positive or negative) with its own identifier (`smc_…`), recorded before sending. A window corrected within the settle delay reads correction_pending and is not corrected again.",
  tags: ["Operations"],
  security: [{ adminToken: [] }],
  middleware: [requireAdmin()] as const,
  request: { query: correctionQuery },
  responses: {
    200: jsonResponse(
      "The comparison and the corrections sent",
      z.object({
        comparison: stripeComparisonSchema,
        corrections: z.array(
          z.object({
            identifier: z.string(),
            stripe_customer_id: z.string(),
            period: z.string(),
            value: z.number(),
            outcome: z.enum(["sent", "already_sent", "failed"]),
            error: z.string().nullable(),
          }),
        ),
      }),
    ),
    400: problemResponse("Malformed query"),
    ...adminErrors,
  },
});

const requeueRoute = createRoute({
  method: "post",
  path: "/admin/usage-batches/{id}/requeue",
  summary: "Requeue a dead-lettered usage batch",
  description:
    "After fixing what dead-lettered it (e.g. the customer now exists in Stripe), puts the batch back in the queue with the same meter event identifier; the next flush sends it. Batches dead-lettered as 'outcome unknown past the identifier dedupe window' may already be in Stripe: check there first.",
  tags: ["Operations"],
  security: [{ adminToken: [] }],
  middleware: [requireAdmin()] as const,
  request: {
    params: z.object({
      id: z.string().describe("The batch id (`smu_…`), as listed by the reconciliation's dead letters"),
    }),
  },
  responses: {
    200: jsonResponse("Requeued", z.object({ requeued: z.literal(true), batch: usageBatchSchema })),
    ...adminRefusals,
    404: problemResponse("NOT_FOUND: no such batch (or ADMIN_TOKEN is not configured)"),
    409: problemResponse("USAGE_BATCH_NOT_DEAD: the batch is pending, sent or netted"),
  },
});

function badQuery(result: {
  success: boolean;
  error?: { issues: { path: PropertyKey[]; message: string }[] };
}) {
  if (!result.success) {
    throw new ApiError(
      "BAD_REQUEST",
      (result.error?.issues ?? [])
        .map((issue) => `${issue.path.join(".") || "query"} ${issue.message}`)
        .join("; "),
    );
  }
  return undefined;
}

export const adminBillingRoutes = newRouter()
  .openapi(flushRoute, async (c) => {
    const { redis, db, stripe } = c.get("services");
    return c.json(await flushUsage({ redis, db, stripe, settings: flushSettingsOf(c.get("config")) }), 200);
  })
  .openapi(
    reconciliationRoute,
    async (c) => {
      const { redis, db, stripe } = c.get("services");
      const query = c.req.valid("query");
      const report = await reconcileUsage({ redis, db }, query);
      if (query.stripe !== "1" && query.stripe !== "true") return c.json(report, 200);
      const comparison = await compareWithStripe(
        { db, stripe, meterEventName: c.get("config").STRIPE_METER_EVENT_NAME },
        { ...query, settleMinutes: query.settle_minutes },
      );
      return c.json({ ...report, stripe: comparison }, 200);
    },
    badQuery,
  )
  .openapi(
    correctionRoute,
    async (c) => {
      const { db, stripe } = c.get("services");
      const query = c.req.valid("query");
      const result = await correctStripeDifferences(
        { db, stripe, meterEventName: c.get("config").STRIPE_METER_EVENT_NAME },
        { ...query, settleMinutes: query.settle_minutes },
      );
      return c.json(result, 200);
    },
    badQuery,
  )
  .openapi(requeueRoute, async (c) => {
    const { id } = c.req.valid("param");
    const result = await requeueUsageBatch(c.get("services").db, id);
    if (result.outcome === "not_found") throw new ApiError("NOT_FOUND", `No usage batch ${id}.`);
    if (result.outcome === "not_dead") {
      throw new ApiError(
        "USAGE_BATCH_NOT_DEAD",
        `Usage batch ${id} is ${result.batch.status}; only dead-lettered batches can be requeued.`,
        { extensions: { batch_status: result.batch.status } },
      );
    }
    return c.json({ requeued: true as const, batch: result.batch }, 200);
  });
