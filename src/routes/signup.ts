import { createRoute, z } from "@hono/zod-openapi";
import { emailAddress, registerAccount } from "../access/signup";
import { jsonBody, requireJson } from "../lib/json-body";
import { clientIpOf } from "../metering/client-ip-limit";
import {
  dependencyUnavailable,
  jsonRequest,
  jsonResponse,
  problemResponse,
  rateLimitedHeaders,
  rateLimitHeaders,
} from "../openapi/responses";
import { newRouter } from "../openapi/router";

const signupBody = z.object({ email: emailAddress });
const signupResponse = z.object({
  account_id: z.string(),
  email: z.string(),
  tier: z.string(),
  api_key: z.string().describe("Shown once; store it now. Exchange it at POST /v1/token."),
  api_key_prefix: z.string().describe("The visible part of the key, as listings show it"),
  created_at: z.string(),
});

const signupRoute = createRoute({
  method: "post",
  path: "/v1/signup",
  summary: "Create a free-tier account",
  description:
    "Returns the account's API key once (only its hash is kept). Rate limited per client IP (SIGNUP_RATE_LIMIT).",
  tags: ["Access"],
  middleware: [requireJson, jsonBody(signupBody)] as const,
  request: { body: jsonRequest(signupBody, { email: "dev@example.com" }) },
  responses: {
    201: jsonResponse("Account created; the API key is in the body", signupResponse, {
      example: {
        account_id: "acc_3f2b9c1d0e8a4f6b",
        email: "dev@example.com",
        tier: "free",
        api_key: "sm_live_2Xf9kQ7vR1bT8mN3pL6wZ0yC4hJ5sD",
        api_key_prefix: "sm_live_2Xf9",
        created_at: "2026-05-01T12:00:00.000Z",
      },
      headers: rateLimitHeaders.extend({ Location: z.string().describe("The new account: /v1/account") }),
    }),
    400: problemResponse("Body is not `{email}` with a valid address"),
    409: problemResponse("EMAIL_TAKEN"),
    415: problemResponse("UNSUPPORTED_MEDIA_TYPE: the body is not sent as JSON"),
    429: problemResponse("RATE_LIMITED: too many sign-ups from this address", rateLimitedHeaders),
    ...dependencyUnavailable(),
  },
});

export const signupRoutes = newRouter().openapi(signupRoute, async (c) => {
  const { account, apiKey, headers } = await registerAccount(
    { services: c.get("services"), config: c.get("config") },
    {
      email: c.req.valid("json").email,
      clientIp: clientIpOf(c.req.header("CF-Connecting-IP"), c.get("config").CLIENT_IPV6_PREFIX),
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
  // The account lives at /v1/account (read with a token of this key).
  return c.json(body, 201, { ...headers, "Cache-Control": "no-store", Location: "/v1/account" });
});
