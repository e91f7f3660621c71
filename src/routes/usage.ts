import { createRoute, z } from "@hono/zod-openapi";
import { accountUsage, MAX_USAGE_RANGE_MS, monthStartOf } from "../billing/usage-history";
import { ApiError } from "../errors";
import { admitUsage } from "../middleware/admission";
import { requireCredential } from "../middleware/auth";
import {
  API_KEY_OR_TOKEN,
  bearerRefusals,
  dependencyUnavailable,
  jsonResponse,
  problemResponse,
  rateLimitHeaders,
} from "../openapi/responses";
import { newRouter } from "../openapi/router";

const instant = z.iso.datetime({ offset: true }).or(z.iso.date());

const usageQuery = z.object({
  from: instant
    .optional()
    .describe("Start (inclusive), ISO 8601 date or date-time; default the start of this UTC month"),
  to: instant.optional().describe("End (exclusive); default now"),
  granularity: z.enum(["day", "hour"]).default("day").describe("Bucket size, UTC"),
});

const usageResponse = z.object({
  from: z.string(),
  to: z.string(),
  granularity: z.enum(["day", "hour"]),
  source: z
    .enum(["ledger", "counters"])
    .describe(
      "ledger: the billing ledger, what Stripe bills (an account with a Stripe customer), a minute or two behind (at most about five while the account keeps calling); counters: units counted at admission less refusals (an account without one), at once, whole buckets that overlap the range, days kept 100 days and hours 8",
    ),
  buckets: z
    .array(z.object({ start: z.string().describe("UTC start of the bucket"), units: z.number() }))
    .describe("Oldest first; buckets without usage are left out"),
});

const usageRoute = createRoute({
  method: "get",
  path: "/v1/usage",
  summary: "Units per day or hour",
  description:
    "For an account with a Stripe customer, from the billing ledger (what Stripe bills; the flusher moves usage there a minute or two behind, at most about five while the account keeps calling). For an account without one (free), from the usage counters kept at admission: units of calls answered 2xx, per UTC day for 100 days and per hour for 8. `source` says which. At most 93 days of days or 7 days of hours per request. Rate limited with the caller's tier; not billed.",
  tags: ["Access"],
  security: API_KEY_OR_TOKEN,
  middleware: [requireCredential(), admitUsage({ units: 0 })] as const,
  request: { query: usageQuery },
  responses: {
    200: jsonResponse("The usage", usageResponse, {
      headers: rateLimitHeaders,
      example: {
        from: "2026-05-01T00:00:00.000Z",
        to: "2026-05-03T12:00:00.000Z",
        granularity: "day",
        source: "ledger",
        buckets: [
          { start: "2026-05-01T00:00:00Z", units: 1200 },
          { start: "2026-05-02T00:00:00Z", units: 950 },
        ],
      },
    }),
    400: problemResponse("`from`/`to` malformed, `from` not before `to`, or the range too wide"),
    ...bearerRefusals,
    ...dependencyUnavailable(),
  },
});

export const usageRoutes = newRouter().openapi(usageRoute, async (c) => {
  const query = c.req.valid("query");
  const now = new Date();
  const from = query.from ? new Date(query.from) : monthStartOf(now);
  const to = query.to ? new Date(query.to) : now;
  if (from >= to) throw new ApiError("BAD_REQUEST", "`from` must be before `to`.");
  if (to.getTime() - from.getTime() > MAX_USAGE_RANGE_MS[query.granularity]) {
    throw new ApiError(
      "BAD_REQUEST",
      query.granularity === "day"
        ? "At most 93 days per request with granularity=day."
        : "At most 7 days per request with granularity=hour; use granularity=day for longer ranges.",
    );
  }
  const usage = await accountUsage(c.get("services"), {
    accountId: c.get("auth").sub,
    // Free usage never reaches the ledger: an account without a Stripe customer gets its counters.
    stripeCustomerId: c.get("admission").record.stripeCustomerId,
    from,
    to,
    granularity: query.granularity,
  });
  const body: z.infer<typeof usageResponse> = {
    from: from.toISOString(),
    to: to.toISOString(),
    granularity: query.granularity,
    source: usage.source,
    buckets: usage.buckets,
  };
  return c.json(body, 200);
});
