import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { describeAccount } from "../access/accounts";
import { MAX_SPEND_CAP_UNITS, setSpendCap } from "../billing/spend-cap";
import type { AppBindings } from "../env";
import { jsonBody, requireJson } from "../lib/json-body";
import { monthlyAllowanceView } from "../metering/monthly-allowance";
import type { AdmissionVariables } from "../middleware/admission";
import { admitUsage } from "../middleware/admission";
import { countRefusedRequest } from "../middleware/admission/refused-request";
import { requireCredential } from "../middleware/auth";
import {
  API_KEY_OR_TOKEN,
  bearerRefusals,
  dependencyUnavailable,
  jsonRequest,
  jsonResponse,
  problemResponse,
  rateLimitHeaders,
} from "../openapi/responses";
import { newRouter } from "../openapi/router";

/** This month's allowance (GET /v1/account and the spend-cap routes show it the same way). */
const monthlyAllowanceFields = {
  monthly_quota: z
    .number()
    .int()
    .nullable()
    .describe("The tier's monthly quota in units (RATE_LIMIT_TIERS); null: none"),
  spend_cap: z
    .number()
    .int()
    .nullable()
    .describe("Your own monthly cap in units (PUT /v1/account/spend-cap); null: none"),
  limit: z
    .number()
    .int()
    .nullable()
    .describe("The allowance in force: the lower of monthly_quota and spend_cap; null: unlimited"),
  remaining: z
    .number()
    .int()
    .nullable()
    .describe("Units left this month under `limit`; null when unlimited or the counter is unreachable"),
  resets_at: z
    .string()
    .describe("When the month's usage starts again from 0: 00:00 UTC on the 1st, ISO 8601"),
};

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
      .describe("Units used (admitted and not refunded) this period; null while the counter is unreachable"),
    ...monthlyAllowanceFields,
  }),
});

const spendCapResponse = z.object({
  spend_cap: z.number().int().nullable().describe("Units a month; null: no cap"),
  usage: z.object({
    period: z.string().describe("UTC calendar month, YYYY-MM"),
    ...monthlyAllowanceFields,
  }),
});

const spendCapBody = z.object({
  monthly_units: z
    .number()
    .int()
    .min(0)
    .max(MAX_SPEND_CAP_UNITS)
    .nullable()
    .describe("The most units to be billed per UTC month (0 stops every billed call); null removes the cap"),
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
        usage: {
          period: "2026-05",
          units: 1234,
          monthly_quota: null,
          spend_cap: 50000,
          limit: 50000,
          remaining: 48766,
          resets_at: "2026-06-01T00:00:00.000Z",
        },
      },
    }),
    ...bearerRefusals,
    ...dependencyUnavailable("Also when Redis is unreachable and the tier fails closed"),
  },
});

const spendCapErrors = {
  ...bearerRefusals,
  403: problemResponse(
    "SPEND_CAP_UNAVAILABLE: only a paying account (a tier sold through Stripe, with a billing customer) can set a cap; also ACCOUNT_SUSPENDED, ACCOUNT_PAST_DUE or ACCOUNT_CLOSED",
  ),
  ...dependencyUnavailable(
    "Also when the cap was saved but Redis did not take it: send the same request again to put it in force",
  ),
};

const spendCapDescription =
  "A cap on the units billed to this account per UTC calendar month, enforced at admission like the tier's monthly quota: a call (or a whole batch) that would pass it is refused with 429 QUOTA_EXCEEDED, not billed, until the next month or until the cap is raised or removed; a cap below this month's usage refuses at once. The lower of the tier's quota and the cap is in force. In units, the unit the tier's price charges (the console shows the estimated charge). Not billed; counted in the tier's window.";

const putSpendCapRoute = createRoute({
  method: "put",
  path: "/v1/account/spend-cap",
  summary: "Set or remove your monthly spend cap (paying accounts)",
  description: spendCapDescription,
  tags: ["Access"],
  security: API_KEY_OR_TOKEN,
  middleware: [
    requireCredential(),
    countRefusedRequest(),
    requireJson,
    jsonBody(spendCapBody),
    admitUsage({ units: 0 }),
  ] as const,
  request: { body: jsonRequest(spendCapBody, { monthly_units: 50000 }) },
  responses: {
    200: jsonResponse("The cap in force", spendCapResponse, {
      example: {
        spend_cap: 50000,
        usage: {
          period: "2026-05",
          monthly_quota: null,
          spend_cap: 50000,
          limit: 50000,
          remaining: 48766,
          resets_at: "2026-06-01T00:00:00.000Z",
        },
      },
    }),
    400: problemResponse("BAD_REQUEST: the body is not `{monthly_units}` (an integer from 0, or null)"),
    415: problemResponse("UNSUPPORTED_MEDIA_TYPE: the body is not sent as JSON"),
    ...spendCapErrors,
  },
});

const deleteSpendCapRoute = createRoute({
  method: "delete",
  path: "/v1/account/spend-cap",
  summary: "Remove your monthly spend cap",
  description: `The same as PUT with \`{"monthly_units": null}\`; allowed on any tier. ${spendCapDescription}`,
  tags: ["Access"],
  security: API_KEY_OR_TOKEN,
  middleware: [requireCredential(), admitUsage({ units: 0 })] as const,
  responses: {
    200: jsonResponse("No cap is in force", spendCapResponse),
    ...spendCapErrors,
  },
});

/** The answer of PUT and DELETE /v1/account/spend-cap: the cap now in force and what it leaves. */
function spendCapAnswer(c: Context<AppBindings & { Variables: AdmissionVariables }>, cap: number | null) {
  const admission = c.get("admission");
  const quota = c.get("config").RATE_LIMIT_TIERS[admission.record.tier]?.monthlyQuota ?? null;
  const body: z.infer<typeof spendCapResponse> = {
    spend_cap: cap,
    usage: {
      period: new Date(admission.record.occurredAtMs).toISOString().slice(0, 7),
      ...monthlyAllowanceView({
        quota,
        cap,
        used: admission.periodUnits,
        nowMs: admission.record.occurredAtMs,
      }),
    },
  };
  return body;
}

export const accountRoutes = newRouter()
  .openapi(accountRoute, async (c) => {
    const admission = c.get("admission");
    const body: z.infer<typeof accountResponse> = await describeAccount(
      c.get("services").db,
      c.get("auth").sub,
      admission,
      c.get("config").RATE_LIMIT_TIERS[admission.record.tier]?.monthlyQuota ?? null,
    );
    return c.json(body, 200);
  })
  .openapi(putSpendCapRoute, async (c) => {
    const { monthly_units: units } = c.req.valid("json");
    const account = await setSpendCap(
      { ...c.get("services"), config: c.get("config") },
      { accountId: c.get("auth").sub, units },
    );
    return c.json(spendCapAnswer(c, account.spend_cap_units), 200);
  })
  .openapi(deleteSpendCapRoute, async (c) => {
    const account = await setSpendCap(
      { ...c.get("services"), config: c.get("config") },
      { accountId: c.get("auth").sub, units: null },
    );
    return c.json(spendCapAnswer(c, account.spend_cap_units), 200);
  });
