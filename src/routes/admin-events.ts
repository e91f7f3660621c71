import { Hono } from "hono";
import { z } from "zod";
import type { AppBindings } from "../env";
import { ApiError } from "../errors";
import { requireAdmin } from "../middleware/admin";
import { adminRefusals, problemSchema, type RouteDoc } from "../openapi/registry";
import { EVENT_OUTCOMES, listStripeEvents } from "../webhooks";

const eventsQuery = z.object({
  status: z.enum(EVENT_OUTCOMES).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

const eventsResponse = z.object({
  events: z.array(
    z.object({
      id: z.string(),
      type: z.string(),
      created_at: z.string().describe("When Stripe created the event (UTC)"),
      received_at: z.string().describe("When it was first applied here (UTC)"),
      outcome: z.enum(EVENT_OUTCOMES),
      object_id: z.string().nullable(),
      account_id: z.string().nullable(),
      detail: z.string().nullable(),
    }),
  ),
});

export const adminEventRoutes = new Hono<AppBindings>().get("/admin/events", requireAdmin(), async (c) => {
  const query = eventsQuery.safeParse(c.req.query());
  if (!query.success) {
    throw new ApiError("BAD_REQUEST", `status must be one of ${EVENT_OUTCOMES.join(", ")}; limit 1 to 500.`);
  }
  const events = await listStripeEvents(c.get("services").db, {
    outcome: query.data.status,
    limit: query.data.limit,
  });
  return c.json({ events } satisfies z.infer<typeof eventsResponse>, 200, { "Cache-Control": "no-store" });
});

export const adminEventDocs: RouteDoc[] = [
  {
    method: "get",
    path: "/admin/events",
    summary: "Recent Stripe events and what they did (operators)",
    description: `Query: \`status\` (${EVENT_OUTCOMES.join(", ")}), \`limit\` (default 50, at most 500). Needs ADMIN_TOKEN.`,
    tags: ["Operations"],
    security: ["adminToken"],
    responses: {
      200: { description: "Events, newest first", schema: eventsResponse },
      400: { description: "BAD_REQUEST: unknown status or limit", schema: problemSchema },
      ...adminRefusals,
    },
  },
];
