import type { ContentfulStatusCode } from "hono/utils/http-status";

/**
 * Every error the API can answer with: a stable machine `code`, its HTTP status and a title.
 * Clients branch on `code`; titles and details are for humans.
 */
export const ERROR_CODES = {
  BAD_REQUEST: { status: 400, title: "Bad request" },
  MALFORMED_JSON: { status: 400, title: "Malformed JSON body" },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: "Unsupported media type" },
  NOT_FOUND: { status: 404, title: "Not found" },
  METHOD_NOT_ALLOWED: { status: 405, title: "Method not allowed" },
  PAYLOAD_TOO_LARGE: { status: 413, title: "Payload too large" },
  AUTH_REQUIRED: { status: 401, title: "Authentication required" },
  TOKEN_EXPIRED: { status: 401, title: "Token expired" },
  TOKEN_INVALID: { status: 401, title: "Token invalid" },
  TOKEN_REVOKED: { status: 401, title: "Token revoked" },
  API_KEY_INVALID: { status: 401, title: "API key unknown or revoked" },
  API_KEY_EXPIRED: { status: 401, title: "API key expired" },
  API_KEY_LAST_ACTIVE: { status: 409, title: "Last active API key" },
  API_KEY_LIMIT_REACHED: { status: 409, title: "Too many active API keys" },
  ACCOUNT_SUSPENDED: { status: 403, title: "Account suspended" },
  ACCOUNT_PAST_DUE: { status: 403, title: "Account past due" },
  ACCOUNT_CLOSED: { status: 403, title: "Account closed" },
  EMAIL_TAKEN: { status: 409, title: "Email already registered" },
  DOCUMENT_NOT_JSON: { status: 422, title: "Document is not JSON" },
  SCHEMA_INVALID: { status: 422, title: "Schema is invalid" },
  SCHEMA_UNRESOLVABLE: { status: 422, title: "Schema reference cannot be resolved" },
  SCHEMA_UNAVAILABLE: { status: 422, title: "Schema URL cannot be used" },
  LIMIT_EXCEEDED: { status: 422, title: "A validation limit was exceeded" },
  SCHEMA_NOT_FOUND: { status: 404, title: "Registered schema not found" },
  SCHEMA_RETIRED: { status: 410, title: "Registered schema retired" },
  SCHEMA_QUOTA_EXCEEDED: { status: 409, title: "Registered schema quota exceeded" },
  SCHEMA_STORAGE_EXCEEDED: { status: 413, title: "Registered schema storage exceeded" },
  SCHEMA_INCOMPATIBLE: { status: 409, title: "Schema version is not compatible" },
  RATE_LIMITED: { status: 429, title: "Rate limit exceeded" },
  QUOTA_EXCEEDED: { status: 429, title: "Monthly quota or spend cap reached" },
  SPEND_CAP_UNAVAILABLE: { status: 403, title: "Spend caps are for paying accounts" },
  IDEMPOTENCY_KEY_INVALID: { status: 400, title: "Idempotency-Key invalid" },
  IDEMPOTENCY_KEY_REUSED: { status: 422, title: "Idempotency-Key reused with another request" },
  IDEMPOTENCY_KEY_IN_USE: { status: 409, title: "Idempotency-Key in use" },
  WEBHOOK_SIGNATURE_INVALID: { status: 400, title: "Webhook signature invalid" },
  BILLING_TIER_UNAVAILABLE: { status: 422, title: "Tier not available for purchase" },
  BILLING_NO_CUSTOMER: { status: 409, title: "No billing account yet" },
  USAGE_BATCH_NOT_DEAD: { status: 409, title: "Usage batch is not dead-lettered" },
  DEPENDENCY_UNAVAILABLE: { status: 503, title: "A dependency is unavailable" },
  SERVICE_MISCONFIGURED: { status: 503, title: "Service misconfigured" },
  INTERNAL: { status: 500, title: "Internal error" },
} as const satisfies Record<string, { status: ContentfulStatusCode; title: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The one error type handlers throw; `onError` turns it into an RFC 9457 problem+json body. */
export class ApiError extends Error {
  readonly status: ContentfulStatusCode;

  constructor(
    readonly code: ErrorCode,
    /** Safe to show to the client: never an internal message, stack or secret. */
    readonly detail?: string,
    options: {
      /** Extra RFC 9457 members, e.g. `errors` for validation problems. */
      extensions?: Record<string, unknown>;
      headers?: Record<string, string>;
      cause?: unknown;
    } = {},
  ) {
    super(detail ?? ERROR_CODES[code].title, { cause: options.cause });
    this.name = "ApiError";
    this.status = ERROR_CODES[code].status;
    this.extensions = options.extensions;
    this.headers = options.headers;
  }

  readonly extensions?: Record<string, unknown>;
  readonly headers?: Record<string, string>;
}

/** The page that explains every error code, one section each: a problem's `type` links to it. */
export const ERROR_DOCS_PATH = "/docs/errors";

/** The id of a code's section on the error page (`TOKEN_INVALID` → `token_invalid`). */
export const errorAnchorOf = (code: ErrorCode) => code.toLowerCase();

export const PROBLEM_CONTENT_TYPE = "application/problem+json";

/** An RFC 9457 body: `type`, `title`, `status`, `detail`, `instance`, plus `code` and `request_id`. */
export function problemBody(error: ApiError, requestId: string, instance: string): Record<string, unknown> {
  return {
    // A relative reference to the error's cause and fix on this API's own error page.
    type: `${ERROR_DOCS_PATH}#${errorAnchorOf(error.code)}`,
    title: ERROR_CODES[error.code].title,
    status: error.status,
    ...(error.detail ? { detail: error.detail } : {}),
    instance,
    code: error.code,
    request_id: requestId,
    ...error.extensions,
  };
}
