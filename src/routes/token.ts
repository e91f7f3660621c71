import { createRoute, z } from "@hono/zod-openapi";
import { AccessRefusal } from "../access/access-refusal";
import { apiKeyPrefix } from "../access/api-keys";
import { bearerCredentials } from "../access/bearer";
import { exchangeApiKeyForToken } from "../access/token-service";
import { mirrorSpendCap } from "../billing/spend-cap";
import { clientIpOf, limitByClientIp, tokenLimit } from "../metering/client-ip-limit";
import {
  dependencyUnavailable,
  jsonResponse,
  problemResponse,
  rateLimitedHeaders,
  rateLimitHeaders,
} from "../openapi/responses";
import { newRouter } from "../openapi/router";

const tokenResponse = z.object({
  token: z.string().describe("A JWT; send it as Authorization: Bearer <token>"),
  token_type: z.literal("Bearer"),
  expires_at: z.string().describe("UTC, ISO 8601"),
  expires_in: z.number().int().describe("Seconds"),
  tier: z.string(),
});

const tokenRoute = createRoute({
  method: "post",
  path: "/v1/token",
  summary: "Exchange an API key for an access token",
  description:
    "Send the API key as `Authorization: Bearer <api key>`. Rate limited per client IP (TOKEN_RATE_LIMIT). The token (EdDSA-signed JWT with `kid`, or HS256 when so configured) carries the account, its Stripe customer and tier, and expires after TOKEN_TTL_SECONDS (default 15 min).",
  tags: ["Access"],
  security: [{ apiKey: [] }],
  responses: {
    200: jsonResponse("A fresh token", tokenResponse, {
      example: {
        token: "eyJhbGciOiJFZERTQSIsImtpZCI6IjIwMjYtMDUifQ.eyJzdWIiOiJhY2NfM2YyYiJ9.c2lnbmF0dXJl",
        token_type: "Bearer",
        expires_at: "2026-05-01T12:15:00.000Z",
        expires_in: 900,
        tier: "pro",
      },
      headers: rateLimitHeaders,
    }),
    401: problemResponse("AUTH_REQUIRED or API_KEY_INVALID (unknown or revoked key)"),
    403: problemResponse("ACCOUNT_SUSPENDED, ACCOUNT_PAST_DUE or ACCOUNT_CLOSED"),
    429: problemResponse("RATE_LIMITED: too many token requests from this address", rateLimitedHeaders),
    ...dependencyUnavailable(),
  },
});

export const tokenRoutes = newRouter().openapi(tokenRoute, async (c) => {
  const apiKey = bearerCredentials(c.req.header("Authorization"));
  if (!apiKey)
    throw new AccessRefusal("AUTH_REQUIRED", "Send your API key as Authorization: Bearer <api key>.");
  if (!apiKeyPrefix(apiKey)) throw new AccessRefusal("API_KEY_INVALID", "This is not an API key.");
  const { db, redis } = c.get("services");
  const config = c.get("config");
  // Counted only once the key is well formed: malformed ones never reach Postgres.
  const headers = await limitByClientIp({ redis }, tokenLimit(config.TOKEN_RATE_LIMIT), {
    clientIp: clientIpOf(c.req.header("CF-Connecting-IP"), c.get("config").CLIENT_IPV6_PREFIX),
    requestId: c.get("requestId"),
  });
  const issued = await exchangeApiKeyForToken({ db, config }, apiKey);
  // The token lives up to an hour: refresh the cap admission enforces from what Postgres just said.
  await mirrorSpendCap(redis, {
    accountId: issued.claims.sub,
    cap: issued.spendCap,
    requestId: c.get("requestId"),
  });
  c.set("subject", issued.claims.sub);
  const body: z.infer<typeof tokenResponse> = {
    token: issued.token,
    token_type: "Bearer",
    expires_at: new Date(issued.expiresAt * 1000).toISOString(),
    expires_in: issued.expiresAt - issued.claims.iat,
    tier: issued.claims.tier,
  };
  return c.json(body, 200, { ...headers, "Cache-Control": "no-store" });
});
