import { createRoute, z } from "@hono/zod-openapi";
import { flushSettingsOf } from "../billing/flush-run";
import { flushUsage } from "../billing/flusher";
import { reconcileUsage } from "../billing/reconciliation";
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

const reconciliationQuery = z
  .object({
    from: instant.describe("Start (inclusive): an ISO 8601 date or UTC date-time"),
    to: instant.describe("End (exclusive): an ISO 8601 date or UTC date-time"),
    customer: z
      .string()
      .regex(/^[A-Za-z0-9_]{1,255}$/)
      .optional()
      .describe("Only this Stripe customer"),
  })
  .refine((q) => q.from < q.to, { message: "from must be before to", path: ["from"] });

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

export const adminBillingRoutes = newRouter()
  .openapi(flushRoute, async (c) => {
    const { redis, db, stripe } = c.get("services");
    return c.json(await flushUsage({ redis, db, stripe, settings: flushSettingsOf(c.get("config")) }), 200);
  })
  .openapi(
    reconciliationRoute,
    async (c) => {
      const { redis, db } = c.get("services");
      return c.json(await reconcileUsage({ redis, db }, c.req.valid("query")), 200);
    },
    (result) => {
      if (!result.success) {
        throw new ApiError(
          "BAD_REQUEST",
          result.error.issues
            .map((issue) => `${issue.path.join(".") || "query"} ${issue.message}`)
            .join("; "),
        );
      }
      return undefined;
    },
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
