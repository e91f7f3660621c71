import { createRoute, z } from "@hono/zod-openapi";
import { describeAccount } from "../access/accounts";
import { admitUsage } from "../middleware/admission";
import { requireCredential } from "../middleware/auth";
import {
  API_KEY_OR_TOKEN,
  bearerRefusals,
  dependencyUnavailable,
  jsonResponse,
  rateLimitHeaders,
} from "../openapi/responses";
import { newRouter } from "../openapi/router";

const accountResponse = z.object({
  id: z.string(),
  email: z.string(),
  tier: z.string().describe("The tier in force, after any override"),
  status: z.enum(["active", "past_due", "suspended", "closed"]),
  grace_until: z.string().nullable(),
  stripe_customer_id: z.string().nullable(),
  created_at: z.string(),
  rate_limit: z
    .object({
      limit: z.number(),
      window_seconds: z.number(),
      remaining: z.number().nullable(),
      reset_seconds: z.number().nullable().describe("Seconds until the oldest admission leaves the window"),
    })
    .describe(
      "The tier's window (validation and every call not listed under reads_rate_limit), in units; as it stands, this read does not spend from it",
    ),
  reads_rate_limit: z
    .object({ limit: z.number(), window_seconds: z.number(), remaining: z.number().nullable() })
    .nullable()
    .describe(
      "The window of account reads (GET /v1/account, /v1/keys, /v1/schemas), apart from the tier's, so they answer while it is exhausted; this read spent 1 of it. Null while Redis is unreachable",
    ),
  usage: z.object({
    period: z.string().describe("UTC calendar month, YYYY-MM"),
    units: z
      .number()
      .nullable()
      .describe("Units admitted this period; null while the counter is unreachable"),
  }),
});

const accountRoute = createRoute({
  method: "get",
  path: "/v1/account",
  summary: "The caller's account, limits and usage this period",
  description:
    "Not billed. Counted in the account reads' own window (`reads_rate_limit`; a 429 of it has RateLimit headers of policy `account-reads`), so it answers while the tier's window is exhausted; `rate_limit` and the RateLimit headers show the tier's window as it stands.",
  tags: ["Access"],
  security: API_KEY_OR_TOKEN,
  middleware: [requireCredential(), admitUsage({ units: 0, bucket: "reads" })] as const,
  responses: {
    200: jsonResponse("The account", accountResponse, {
      headers: rateLimitHeaders,
      example: {
        id: "acc_3f2b9c1d0e8a4f6b",
        email: "dev@example.com",
        tier: "pro",
        status: "active",
        grace_until: null,
        stripe_customer_id: "cus_Q1w2E3r4T5y6U7",
        created_at: "2026-05-01T12:00:00.000Z",
        rate_limit: { limit: 100, window_seconds: 10, remaining: 99, reset_seconds: 7 },
        reads_rate_limit: { limit: 60, window_seconds: 10, remaining: 59 },
        usage: { period: "2026-05", units: 1234 },
      },
    }),
    ...bearerRefusals,
    ...dependencyUnavailable("Also when Redis is unreachable and the tier fails closed"),
  },
});

export const accountRoutes = newRouter().openapi(accountRoute, async (c) => {
  const body: z.infer<typeof accountResponse> = await describeAccount(
    c.get("services").db,
    c.get("auth").sub,
    c.get("admission"),
  );
  return c.json(body, 200);
});
