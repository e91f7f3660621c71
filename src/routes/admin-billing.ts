import { Hono } from "hono";
import { z } from "zod";
import { flushUsage } from "../billing/flusher";
import { reconcileUsage } from "../billing/reconciliation";
import { requeueUsageBatch, usageBatchSchema } from "../billing/usage-batches";
import type { AppBindings } from "../env";
import { ApiError } from "../errors";
import { requireAdmin } from "../middleware/admin";
import { adminRefusals, problemSchema, type RouteDoc } from "../openapi/registry";

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
    from: instant,
    to: instant,
    customer: z
      .string()
      .regex(/^[A-Za-z0-9_]{1,255}$/)
      .optional(),
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
      .describe("admitted - compensated = reported + pending + dead_lettered, for every row"),
    rows: z.array(z.object({}).loose()),
  })
  .loose();

export const adminBillingRoutes = new Hono<AppBindings>()
  .post("/admin/flush", requireAdmin(), async (c) => {
    const { redis, db, stripe } = c.get("services");
    return c.json(await flushUsage({ redis, db, stripe, settings: c.get("config") }));
  })
  .get("/admin/reconciliation", requireAdmin(), async (c) => {
    const parsed = reconciliationQuery.safeParse(c.req.query());
    if (!parsed.success) {
      throw new ApiError(
        "BAD_REQUEST",
        parsed.error.issues.map((issue) => `${issue.path.join(".") || "query"} ${issue.message}`).join("; "),
      );
    }
    const { redis, db } = c.get("services");
    return c.json(await reconcileUsage({ redis, db }, parsed.data));
  })
  .post("/admin/usage-batches/:id/requeue", requireAdmin(), async (c) => {
    const id = c.req.param("id");
    const result = await requeueUsageBatch(c.get("services").db, id);
    if (result.outcome === "not_found") throw new ApiError("NOT_FOUND", `No usage batch ${id}.`);
    if (result.outcome === "not_dead") {
      throw new ApiError(
        "USAGE_BATCH_NOT_DEAD",
        `Usage batch ${id} is ${result.batch.status}; only dead-lettered batches can be requeued.`,
        { extensions: { batch_status: result.batch.status } },
      );
    }
    return c.json({ requeued: true, batch: result.batch });
  });

const adminErrors = {
  ...adminRefusals,
  404: { description: "ADMIN_TOKEN is not configured", schema: problemSchema },
};

export const adminBillingDocs: RouteDoc[] = [
  {
    method: "post",
    path: "/admin/flush",
    summary: "Run the usage flusher now",
    description:
      "What the cron trigger does every minute: moves usage from the stream to the ledger and reports meter events to Stripe, within the run's budgets. Returns the run's report.",
    tags: ["Operations"],
    security: ["adminToken"],
    responses: { 200: { description: "The run's report", schema: flushReportSchema }, ...adminErrors },
  },
  {
    method: "get",
    path: "/admin/reconciliation",
    summary: "Billing reconciliation per customer and month",
    description:
      "Units admitted, compensated, reported, pending and dead-lettered for usage that occurred in [from, to), per Stripe customer and UTC month, and whether they balance. `from`/`to`: ISO 8601 dates or UTC date-times; `customer` narrows to one Stripe customer.",
    tags: ["Operations"],
    security: ["adminToken"],
    responses: {
      200: { description: "The reconciliation", schema: reconciliationSchema },
      400: { description: "Malformed query", schema: problemSchema },
      ...adminErrors,
    },
  },
  {
    method: "post",
    path: "/admin/usage-batches/{id}/requeue",
    summary: "Requeue a dead-lettered usage batch",
    pathParameters: { id: "The batch id (`smu_…`), as listed by the reconciliation's dead letters" },
    description:
      "After fixing what dead-lettered it (e.g. the customer now exists in Stripe), puts the batch back in the queue with the same meter event identifier; the next flush sends it. Batches dead-lettered as 'outcome unknown past the identifier dedupe window' may already be in Stripe: check there first.",
    tags: ["Operations"],
    security: ["adminToken"],
    responses: {
      200: {
        description: "Requeued",
        schema: z.object({ requeued: z.literal(true), batch: usageBatchSchema }),
      },
      ...adminRefusals,
      404: {
        description: "NOT_FOUND: no such batch (or ADMIN_TOKEN is not configured)",
        schema: problemSchema,
      },
      409: {
        description: "USAGE_BATCH_NOT_DEAD: the batch is pending, sent or netted",
        schema: problemSchema,
      },
    },
  },
];
