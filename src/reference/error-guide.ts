import type { ErrorCode } from "../errors";

/** What a customer reads at each problem's `type` URL: why the error happens and what to change. */
export interface ErrorGuide {
  cause: string;
  fix: string;
}

/**
 * One entry per error code (the type makes a new code without a guide a compile error). Plain text:
 * it is rendered into HTML, escaped, at /docs/errors.
 */
export const ERROR_GUIDES = {
  BAD_REQUEST: {
    cause: "The request's parameters or JSON body do not have the shape the operation documents.",
    fix: "Read `detail` and `errors` (each names the field and what was expected) and compare the body with the operation's schema in the reference.",
  },
  MALFORMED_JSON: {
    cause:
      "The body was sent as JSON but does not parse (a trailing comma, single quotes, a truncated upload).",
    fix: "Serialize the body with a JSON library (JSON.stringify, json.dumps) instead of building it by hand.",
  },
  UNSUPPORTED_MEDIA_TYPE: {
    cause:
      "The body was sent without `Content-Type: application/json` (curl -d sends form encoding by default).",
    fix: "Add the header `Content-Type: application/json`.",
  },
  NOT_FOUND: {
    cause: "No route has this path (a typo, or a missing /v1 prefix).",
    fix: "Check the path against the reference; every customer route starts with /v1/.",
  },
  METHOD_NOT_ALLOWED: {
    cause: "The path exists but not with this HTTP method.",
    fix: "Use a method listed in the `Allow` header of the response.",
  },
  PAYLOAD_TOO_LARGE: {
    cause: "The request body is larger than the service accepts (MAX_BODY_BYTES, 4 MiB by default).",
    fix: "Send fewer documents per batch, or reference a large schema with `schema_url` instead of inlining it.",
  },
  AUTH_REQUIRED: {
    cause:
      "No credential was sent: the `Authorization` header is missing or not of the form `Bearer <credential>`.",
    fix: "Send `Authorization: Bearer <your API key>` (the `sm_…` key from sign-up), or a token from POST /v1/token the same way.",
  },
  TOKEN_EXPIRED: {
    cause: "The access token is past its `expires_at` (tokens live 15 minutes by default).",
    fix: "Get a new one from POST /v1/token with your API key, a little before `expires_at`; the TypeScript client does this for you.",
  },
  TOKEN_INVALID: {
    cause:
      "The bearer credential is not a token this service signed: malformed, altered, or something else sent in its place.",
    fix: "Send the `token` value POST /v1/token returned, unmodified, or your API key itself (`sm_…`), which every route accepts.",
  },
  TOKEN_REVOKED: {
    cause: "The token was issued for an API key that has since been revoked.",
    fix: "Exchange a current API key for a new token at POST /v1/token.",
  },
  API_KEY_INVALID: {
    cause: "The API key is unknown or revoked, or what was sent is not an API key at all.",
    fix: "Use the `api_key` returned once at sign-up (it starts with `sm_`), without quotes or whitespace; if it is lost or revoked, ask support for a new one.",
  },
  API_KEY_EXPIRED: {
    cause: "The API key had an expiry (set when it was created, or the overlap of a roll) and it has passed.",
    fix: "Use the account's current key (GET /v1/keys lists them), or create one with POST /v1/keys.",
  },
  API_KEY_LAST_ACTIVE: {
    cause: "Revoking this key would leave the account with no key that does not expire: no way back in.",
    fix: "Create another key first (POST /v1/keys), or roll this one (POST /v1/keys/{id}/roll) to replace its secret.",
  },
  API_KEY_LIMIT_REACHED: {
    cause: "The account already has the most active keys it may hold (20).",
    fix: "Revoke keys you no longer use (DELETE /v1/keys/{id}) before creating more.",
  },
  ACCOUNT_SUSPENDED: {
    cause: "The account has been suspended by the operator.",
    fix: "Contact support, quoting the `request_id`.",
  },
  ACCOUNT_PAST_DUE: {
    cause: "The subscription's payment failed and its grace period is over.",
    fix: "Update the payment method in the billing portal (POST /v1/billing/portal); access returns once Stripe confirms payment.",
  },
  ACCOUNT_CLOSED: {
    cause: "The account has been closed.",
    fix: "Sign up again, or contact support to reopen it.",
  },
  EMAIL_TAKEN: {
    cause: "An account with this e-mail address already exists.",
    fix: "Use that account's API key; sign up with another address for a separate account.",
  },
  DOCUMENT_NOT_JSON: {
    cause: "The `json` field (a document sent as text) does not parse as JSON.",
    fix: "Check the text with a JSON parser before sending, or send the document as `data` (a JSON value) instead.",
  },
  SCHEMA_INVALID: {
    cause:
      "The schema is not a valid JSON Schema for its dialect (`$schema`): a keyword with a wrong type, an unknown `$schema`, an invalid regular expression.",
    fix: "Read `errors`: each entry points at the schema location that is wrong. Validate the schema against its meta-schema in your editor.",
  },
  SCHEMA_UNRESOLVABLE: {
    cause: "A `$ref` points to something that does not exist in the schema or in any document it loads.",
    fix: "Check the `ref` in the problem: fix the JSON Pointer or `$id` it names, or add the missing `$defs` entry.",
  },
  SCHEMA_UNAVAILABLE: {
    cause:
      "A `schema_url` (or a remote `$ref`) could not be used: not https, a private address, a redirect to one, a timeout, an HTTP error, a body that is too large or not JSON. `reason` says which.",
    fix: "Serve the schema over public https, answering 200 with JSON within 3 seconds and within MAX_SCHEMA_BYTES (4 MiB by default); or send it inline as `schema`.",
  },
  LIMIT_EXCEEDED: {
    cause:
      "A validation limit was reached; `limit` names it (max_document_bytes, max_schema_bytes, max_depth, max_batch_documents, max_remote_documents, max_remote_schema_bytes, max_compiled_schema_bytes, cpu_budget for the work of one request or of compiling its schema, regex_budget for one pattern on one input, rate_limit_cost for a call that costs more units than the tier's whole rate-limit window).",
    fix: "Split the work (smaller documents, fewer per batch, fewer remote schemas) or simplify the schema; the limits are listed in the README. A large schema used often is cheaper registered (PUT /v1/schemas/{name}).",
  },
  SCHEMA_NOT_FOUND: {
    cause:
      "The `schema_id` (or the schema name or version in the path) is not one of your registered schemas.",
    fix: "List yours with GET /v1/schemas; publish with PUT /v1/schemas/{name}. Names are per account: another account's schemas are never visible.",
  },
  SCHEMA_RETIRED: {
    cause:
      "The registered schema was retired (DELETE /v1/schemas/{name}): it can no longer validate or take new versions.",
    fix: "Publish the schema under a new name and validate by that; the retired versions stay readable with GET.",
  },
  SCHEMA_QUOTA_EXCEEDED: {
    cause: "Publishing a new name would exceed your plan's number of registered schemas (`limit`, `used`).",
    fix: "Retire a schema you no longer use (DELETE /v1/schemas/{name}) or upgrade your plan.",
  },
  SCHEMA_STORAGE_EXCEEDED: {
    cause:
      "The new version would exceed your plan's bytes of stored schema versions (`limit`, `used`, `needed`); versions are kept for good, retired ones too.",
    fix: "Upgrade your plan, or publish a smaller schema (split it into registered schemas that reference each other).",
  },
  SCHEMA_INCOMPATIBLE: {
    cause:
      "You published with `?require=compatible` and the new version can make documents valid under the previous one invalid; `compatibility.breaking` lists each change and where it is.",
    fix: "Change the schema so it only widens (or keep the old rule), or publish without `require=compatible` once your clients are ready; nothing was published.",
  },
  RATE_LIMITED: {
    cause:
      "The tier's rate in units (a batch costs its documents) or the per-address sign-up or token rate was exceeded.",
    fix: "Wait the seconds in `Retry-After` before retrying (the `RateLimit` header shows what is left); upgrade with POST /v1/billing/checkout for a higher limit.",
  },
  QUOTA_EXCEEDED: {
    cause:
      'This month\'s billed units plus this call\'s would pass the tier\'s monthly quota (`quota_kind` "quota") or the spend cap you set (`quota_kind` "cap"); `quota`, `used` and `cost` say by how much. A batch that would cross it is refused whole. Nothing was billed or counted.',
    fix: "Wait until `reset_at` (00:00 UTC on the 1st of next month; `Retry-After` gives the seconds), send a smaller batch that fits, raise or remove your cap (PUT or DELETE /v1/account/spend-cap), or upgrade with POST /v1/billing/checkout. GET /v1/account shows what is left.",
  },
  SPEND_CAP_UNAVAILABLE: {
    cause:
      "Only a paying account (a tier sold through Stripe, with a billing customer) can set a spend cap; the free tier has its monthly quota instead.",
    fix: "Upgrade with POST /v1/billing/checkout (or the console's Upgrade button), then set the cap.",
  },
  IDEMPOTENCY_KEY_INVALID: {
    cause: "The Idempotency-Key header was empty, longer than 255 characters or not printable ASCII.",
    fix: "Send a fresh random value per logical request, e.g. a UUID v4, and the same value on its retries.",
  },
  IDEMPOTENCY_KEY_REUSED: {
    cause: "The Idempotency-Key was used in the last 24 h for a request with another body or path.",
    fix: "Retry with exactly the same request, or send a new key for a new request. Nothing was billed.",
  },
  IDEMPOTENCY_KEY_IN_USE: {
    cause: "The first request with this Idempotency-Key is still being answered.",
    fix: "Wait the seconds in Retry-After and retry: you then get the first request's response, billed once.",
  },
  WEBHOOK_SIGNATURE_INVALID: {
    cause: "A webhook request did not carry a valid Stripe signature for this endpoint's signing secret.",
    fix: "Operators: set STRIPE_WEBHOOK_SECRET (or, for /webhooks/stripe/thin-events, STRIPE_EVENT_DESTINATION_SECRET) to the endpoint's signing secret. Only Stripe calls these routes.",
  },
  BILLING_TIER_UNAVAILABLE: {
    cause: "The requested tier does not exist or has no price to buy.",
    fix: "Ask for a tier that is sold (e.g. `pro`); `free` needs no checkout.",
  },
  BILLING_NO_CUSTOMER: {
    cause: "The billing portal was asked for before the account ever subscribed.",
    fix: "Subscribe first with POST /v1/billing/checkout.",
  },
  USAGE_BATCH_NOT_DEAD: {
    cause:
      "Operators: only a dead-lettered usage batch can be requeued; this one is pending or already reported.",
    fix: "List dead batches with `npm run usage-batches -- list --status dead` and requeue one of those.",
  },
  DEPENDENCY_UNAVAILABLE: {
    cause:
      "A service this request needs (Redis, Postgres or Stripe) did not answer in time. Nothing was billed.",
    fix: "Retry after the seconds in `Retry-After`, with the same request; the TypeScript client does this for you.",
  },
  SERVICE_MISCONFIGURED: {
    cause:
      "The service's configuration is incomplete or invalid; no request can succeed until the operator fixes it.",
    fix: "Retry later, and tell support the `request_id`. Operators: GET /health/ready names the settings at fault.",
  },
  INTERNAL: {
    cause: "An unexpected error on our side. Nothing was billed.",
    fix: "Retry once; if it persists, contact support with the `request_id`.",
  },
} as const satisfies Record<ErrorCode, ErrorGuide>;
