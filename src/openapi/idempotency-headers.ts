/** The headers of the validate routes' Idempotency-Key, as the OpenAPI document describes them. */
import { z } from "@hono/zod-openapi";
import { checkedElsewhere } from "./checked-by-middleware";
import { problemResponse, rateLimitHeaders, retryAfterHeaders } from "./responses";

/** The 409 of a duplicate while the first call with its Idempotency-Key is being answered. */
export const idempotencyInUse = problemResponse(
  "IDEMPOTENCY_KEY_IN_USE: the first request with this Idempotency-Key is still being answered; retry after Retry-After; not billed",
  retryAfterHeaders,
);

/** The Idempotency-Key header of both validate routes (checked by admission, not by zod-openapi). */
export const idempotencyHeaders = checkedElsewhere(
  z.object({
    "Idempotency-Key": z.string().optional().openapi({
      description:
        "Optional, 1-255 printable ASCII characters (e.g. a UUID), per account for 24 h: a retry with the same key and body is answered the first response (`Idempotent-Replayed: true`) and billed once; the same key with another body or path is 422 IDEMPOTENCY_KEY_REUSED; while the first is in flight, 409 IDEMPOTENCY_KEY_IN_USE. Responses over 64 KiB keep only their status. Never served without Redis (503).",
      example: "7f3c2a9e-1b4d-4c8a-9e2f-5a6b7c8d9e0f",
    }),
  }),
);

/** A verdict's headers: the RateLimit ones and, on a replay, Idempotent-Replayed. */
export const verdictHeaders = rateLimitHeaders.extend({
  "Idempotent-Replayed": z
    .literal("true")
    .optional()
    .describe(
      "Present on the answer to a retry with an Idempotency-Key: the first response, not billed again",
    ),
});
