import { Hono } from "hono";
import { z } from "zod";
import { describeAccount } from "../auth/accounts";
import type { AppBindings } from "../env";
import { admitUsage } from "../middleware/admission";
import { requireToken } from "../middleware/auth";
import { bearerRefusals, problemSchema, type RouteDoc, rateLimitHeaderDocs } from "../openapi/registry";

const accountResponse = z.object({
  id: z.string(),
  email: z.string(),
  tier: z.string().describe("The tier in force, after any override"),
  status: z.enum(["active", "past_due", "suspended", "closed"]),
  grace_until: z.string().nullable(),
  stripe_customer_id: z.string().nullable(),
  created_at: z.string(),
  rate_limit: z.object({ limit: z.number(), window_seconds: z.number(), remaining: z.number().nullable() }),
  usage: z.object({
    period: z.string().describe("UTC calendar month, YYYY-MM"),
    units: z
      .number()
      .nullable()
      .describe("Units admitted this period; null while the counter is unreachable"),
  }),
});

export const accountRoutes = new Hono<AppBindings>().get(
  "/v1/account",
  requireToken(),
  // Rate limited like every protected route, but reading the account is not billed.
  admitUsage({ units: 0 }),
  async (c) => {
    const admission = c.get("admission");
    const claims = c.get("auth");
    if (!admission || !claims) throw new Error("account route mounted without its middleware");
    const body: z.infer<typeof accountResponse> = await describeAccount(
      c.get("services").db,
      claims.sub,
      admission,
    );
    return c.json(body);
  },
);

export const accountDocs: RouteDoc[] = [
  {
    method: "get",
    path: "/v1/account",
    summary: "The caller's account, limits and usage this period",
    description: "Rate limited with the caller's tier; not billed.",
    tags: ["Access"],
    security: ["bearerToken"],
    responses: {
      200: { description: "The account", schema: accountResponse, headers: rateLimitHeaderDocs },
      ...bearerRefusals,
      503: { description: "Redis unreachable and the tier fails closed", schema: problemSchema },
    },
  },
];
