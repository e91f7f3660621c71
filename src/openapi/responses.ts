import { z } from "@hono/zod-openapi";
import { PROBLEM_CONTENT_TYPE } from "../errors";
import { QUOTA_EXCEEDED_EXAMPLES } from "./validation-examples";

/** RFC 9457 problem details, as every error response of this API carries them; `#/components/schemas/Problem`. */
export const problemSchema = z
  .object({
    type: z.string().describe("URI reference identifying the problem type"),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    instance: z.string().describe("The request path"),
    code: z.string().describe("Stable machine-readable error code"),
    request_id: z.string().describe("Echoed in the X-Request-Id header; quote it in support requests"),
  })
  .loose()
  .openapi("Problem");

/** The RateLimit headers every rate-limited response carries. */
export const rateLimitHeaders = z.object({
  "RateLimit-Policy": z.string().describe('IETF draft syntax, e.g. `"pro";q=100;w=10`'),
  RateLimit: z.string().describe('IETF draft syntax, e.g. `"pro";r=57;t=3`'),
});

/** A 429's headers: the RateLimit ones and the seconds to wait. */
export const rateLimitedHeaders = rateLimitHeaders.extend({
  "Retry-After": z.string().regex(/^\d+$/).describe("Seconds to wait before retrying"),
});

type HeaderSchemas = z.ZodObject;

/** A 503's headers: the seconds to wait. */
export const retryAfterHeaders = z.object({
  "Retry-After": z.string().regex(/^\d+$/).describe("Seconds to wait before retrying"),
});

/** The refusal of every route that needs Postgres (and of those that need Redis): retry shortly. */
export function dependencyUnavailable(also = "") {
  return {
    503: problemResponse(
      `DEPENDENCY_UNAVAILABLE: Postgres or Redis unreachable; retry after Retry-After${also ? `. ${also}` : ""}`,
      retryAfterHeaders,
    ),
  };
}

/** An error response: problem+json with the one `Problem` schema (and, optionally, named examples). */
export function problemResponse(
  description: string,
  headers?: HeaderSchemas,
  examples?: Record<string, { summary: string; value: Record<string, unknown> }>,
) {
  return {
    description,
    ...(headers && { headers }),
    content: { [PROBLEM_CONTENT_TYPE]: { schema: problemSchema, ...(examples && { examples }) } },
  };
}

/** A JSON response with its schema and, for the main routes, an example. */
export function jsonResponse<T extends z.ZodType>(
  description: string,
  schema: T,
  options: { example?: z.input<T>; headers?: HeaderSchemas } = {},
) {
  return {
    description,
    ...(options.headers && { headers: options.headers }),
    content: {
      "application/json": { schema, ...(options.example !== undefined && { example: options.example }) },
    },
  };
}

/** A required JSON request body, with an example. */
export function jsonRequest<T extends z.ZodType>(schema: T, example?: z.input<T>) {
  return {
    required: true,
    content: { "application/json": { schema, ...(example !== undefined && { example }) } },
  };
}

/** The security of every protected route: the API key itself, or a token minted from it. */
export const API_KEY_OR_TOKEN: Record<string, string[]>[] = [{ apiKey: [] }, { bearerToken: [] }];

/** The refusals every route behind a credential and admission (`requireCredential`, `admitUsage`) can give. */
export const bearerRefusals = {
  401: problemResponse(
    "AUTH_REQUIRED (no credential: the detail says what to send), API_KEY_INVALID (unknown, malformed or revoked key), API_KEY_EXPIRED, TOKEN_EXPIRED, TOKEN_INVALID or TOKEN_REVOKED",
  ),
  403: problemResponse(
    "ACCOUNT_SUSPENDED, ACCOUNT_PAST_DUE or ACCOUNT_CLOSED (an API key whose account may not call)",
  ),
  429: problemResponse("RATE_LIMITED, with Retry-After", rateLimitedHeaders),
};

/**
 * The refusals of a billed call (POST /v1/validate, /batch): those of every protected route, and a
 * 429 that is also the monthly quota's or spend cap's.
 */
export const billedCallRefusals = {
  ...bearerRefusals,
  429: problemResponse(
    "RATE_LIMITED (the tier's window; Retry-After in seconds) or QUOTA_EXCEEDED (this month's units plus the call's would pass the tier's monthly quota or your spend cap; a batch is refused whole; `reset_at` is the next UTC month, Retry-After the seconds until then). Neither is billed.",
    rateLimitedHeaders,
    QUOTA_EXCEEDED_EXAMPLES,
  ),
};

/** The refusal every operator route (ADMIN_TOKEN) can give. */
export const adminRefusals = {
  401: problemResponse("AUTH_REQUIRED: the admin token is missing or wrong"),
};
