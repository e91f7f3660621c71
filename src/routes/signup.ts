import { Hono } from "hono";
import { z } from "zod";
import { clientIpOf } from "../admission/client-ip-limit";
import { registerAccount } from "../auth/signup";
import type { AppBindings } from "../env";
import { jsonBody, requireJson } from "../lib/json-body";
import { problemSchema, type RouteDoc } from "../openapi/registry";

const signupBody = z.object({ email: z.email().max(254) });
const signupResponse = z.object({
  account_id: z.string(),
  email: z.string(),
  tier: z.string(),
  api_key: z.string().describe("Shown once; store it now. Exchange it at POST /v1/token."),
  api_key_prefix: z.string().describe("The visible part of the key, as listings show it"),
  created_at: z.string(),
});

export const signupRoutes = new Hono<AppBindings>().post(
  "/v1/signup",
  requireJson,
  jsonBody(signupBody),
  async (c) => {
    const { account, apiKey, headers } = await registerAccount(
      { services: c.get("services"), config: c.get("config") },
      {
        email: c.req.valid("json").email,
        clientIp: clientIpOf(c.req.header("CF-Connecting-IP")),
        requestId: c.get("requestId"),
      },
    );
    const body: z.infer<typeof signupResponse> = {
      account_id: account.id,
      email: account.email,
      tier: account.tier,
      api_key: apiKey,
      api_key_prefix: account.key_prefix,
      created_at: account.created_at,
    };
    return c.json(body, 201, { ...headers, "Cache-Control": "no-store" });
  },
);

export const signupDocs: RouteDoc[] = [
  {
    method: "post",
    path: "/v1/signup",
    summary: "Create a free-tier account",
    description:
      "Returns the account's API key once (only its hash is kept). Rate limited per client IP (SIGNUP_RATE_LIMIT).",
    tags: ["Access"],
    requestBody: { schema: signupBody, example: { email: "dev@example.com" } },
    responses: {
      201: { description: "Account created; the API key is in the body", schema: signupResponse },
      400: { description: "Body is not `{email}` with a valid address", schema: problemSchema },
      409: { description: "EMAIL_TAKEN", schema: problemSchema },
      429: { description: "RATE_LIMITED: too many sign-ups from this address", schema: problemSchema },
    },
  },
];
