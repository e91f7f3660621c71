import { createRoute, z } from "@hono/zod-openapi";
import { EVENT_OUTCOMES, listStripeEvents } from "../billing/webhooks/apply-webhook";
import { ApiError } from "../errors";
import { requireAdmin } from "../middleware/admin";
import { adminRefusals, dependencyUnavailable, jsonResponse, problemResponse } from "../openapi/responses";
import { newRouter } from "../openapi/router";

const eventsQuery = z.object({
  status: z.enum(EVENT_OUTCOMES).optional().describe("Only events with this outcome"),
  limit: z.coerce.number().int().min(1).max(500).default(50).describe("At most this many, newest first"),
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

const eventsRoute = createRoute({
  method: "get",
  path: "/admin/events",
  summary: "Recent Stripe events and what they did (operators)",
  description: `Query: \`status\` (${EVENT_OUTCOMES.join(", ")}), \`limit\` (default 50, at most 500). Needs ADMIN_TOKEN.`,
  tags: ["Operations"],
  security: [{ adminToken: [] }],
  middleware: [requireAdmin()] as const,
  request: { query: eventsQuery },
  responses: {
    200: jsonResponse("Events, newest first", eventsResponse),
    400: problemResponse("BAD_REQUEST: unknown status or limit"),
    ...adminRefusals,
    ...dependencyUnavailable(),
  },
});

export const adminEventRoutes = newRouter().openapi(
  eventsRoute,
  async (c) => {
    const query = c.req.valid("query");
    const events = await listStripeEvents(c.get("services").db, {
      outcome: query.status,
      limit: query.limit,
    });
    return c.json({ events } satisfies z.infer<typeof eventsResponse>, 200, { "Cache-Control": "no-store" });
  },
  (result) => {
    if (!result.success) {
      throw new ApiError(
        "BAD_REQUEST",
        `status must be one of ${EVENT_OUTCOMES.join(", ")}; limit 1 to 500.`,
      );
    }
    return undefined;
  },
);
