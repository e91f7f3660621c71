import { ERROR_DOCS_PATH } from "../errors";

/**
 * The customer reference's introduction (the OpenAPI `info.description`, Markdown): how to
 * authenticate, a first call from sign-up to upgrade, and where errors are explained.
 */
export const QUICK_START = `Metered JSON Schema validation and enrichment at the edge: send a schema (inline or by \`schema_url\`)
and a document, get a verdict with every error located in both.

## Quick start

Three calls from nothing to a verdict, and one to upgrade. Set the base URL once (this page's origin):

\`\`\`sh
export SCHEMA_METER_URL="https://api.example.com"
\`\`\`

**1. Sign up** (free tier). The API key is shown once: store it.

\`\`\`sh
curl -s -X POST "$SCHEMA_METER_URL/v1/signup" \\
  -H "Content-Type: application/json" \\
  -d '{"email":"dev@example.com"}'
export SCHEMA_METER_API_KEY="sm_…" # its api_key
\`\`\`

**2. Get a token** with the key (valid 15 minutes; get a new one before \`expires_at\`).

\`\`\`sh
curl -s -X POST "$SCHEMA_METER_URL/v1/token" \\
  -H "Authorization: Bearer $SCHEMA_METER_API_KEY"
export SCHEMA_METER_TOKEN="eyJ…" # its token
\`\`\`

**3. Validate.**

\`\`\`sh
curl -s -X POST "$SCHEMA_METER_URL/v1/validate" \\
  -H "Authorization: Bearer $SCHEMA_METER_TOKEN" \\
  -H "Content-Type: application/json" \\
  -d '{"schema":{"required":["id"]},"data":{}}'
\`\`\`

The answer is 200 with \`"valid": false\` and the error located in the document and in the schema.

**Upgrade** when the free tier's rate is not enough: open the answer's \`url\` (Stripe Checkout) in a
browser. The new limits apply as soon as Stripe confirms payment, to the tokens you already have.

\`\`\`sh
curl -s -X POST "$SCHEMA_METER_URL/v1/billing/checkout" \\
  -H "Authorization: Bearer $SCHEMA_METER_TOKEN" \\
  -H "Content-Type: application/json" \\
  -d '{"tier":"pro"}'
\`\`\`

Every operation below has curl, JavaScript and Python samples (the Python ones use only the standard
library). A typed TypeScript client that gets and renews tokens and honours \`Retry-After\` is in the
repository under \`clients/typescript\`, and a Python example under \`clients/python\`.

## Authentication

Send a credential as \`Authorization: Bearer <credential>\`. \`POST /v1/token\` takes your **API key**
and answers a short-lived **token**; the other \`/v1\` routes take the token.

## Errors, limits and retries

Every error is an RFC 9457 \`application/problem+json\` body with a stable \`code\` to branch on,
a \`detail\` that says what to change, and the \`request_id\` to quote to support. Its \`type\` links
to the [error reference](${ERROR_DOCS_PATH}), one section per code with its cause and fix.
Rate-limited (429) and temporarily unavailable (503) answers carry \`Retry-After\` in seconds; only a
2xx answer is billed.

Each response carries \`Schema-Meter-Version\`, the dated API version it follows.
`;
