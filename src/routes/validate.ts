import { createRoute, z } from "@hono/zod-openapi";
import { jsonBody, requireJson } from "../lib/json-body";
import { admitUsage } from "../middleware/admission";
import { countRefusedRequest } from "../middleware/admission/refused-request";
import { requireCredential } from "../middleware/auth";
import { idempotencyHeaders, idempotencyInUse, verdictHeaders } from "../openapi/idempotency-headers";
import {
  API_KEY_OR_TOKEN,
  billedCallRefusals,
  jsonRequest,
  jsonResponse,
  problemResponse,
} from "../openapi/responses";
import { newRouter } from "../openapi/router";
import { MALFORMED_BODY_EXAMPLES, SCHEMA_INVALID_EXAMPLES } from "../openapi/validation-examples";
import { parseSchemaId, type SchemaId } from "../registry/store";
import type { DocumentInput, SchemaInput, ValidationRequest } from "../validation/service";

const enrichSchema = z
  .union([
    z.boolean(),
    z
      .object({
        defaults: z.boolean().optional().describe("Fill absent properties that have a `default`"),
        formats: z
          .boolean()
          .optional()
          .describe("Normalise date-time to UTC `Z`, e-mail domains, URI scheme and host"),
        annotations: z
          .boolean()
          .optional()
          .describe("Collect title, description, deprecated, readOnly, writeOnly, examples"),
      })
      .strict(),
  ])
  .default(false)
  .describe(
    "Enrich valid documents (2 units per valid document instead of 1; an invalid one is not enriched and costs 1); `true` turns on every part",
  );

const schemaFields = {
  schema: z
    .union([z.record(z.string(), z.unknown()), z.boolean()])
    .optional()
    .describe(
      "The JSON Schema, inline. Its `$schema` picks the draft (04, 06, 07, 2019-09, 2020-12 by default)",
    ),
  schema_url: z
    .url({ protocol: /^https?$/ })
    .optional()
    .describe(
      "Where to fetch the schema (https; 3 s; up to MAX_SCHEMA_BYTES); the URL is its base URI for relative `$ref`s",
    ),
  schema_id: z
    .string()
    .refine((text) => parseSchemaId(text) !== undefined, {
      message: "write a registered schema's name (`orders`, its latest version) or name@version (`orders@3`)",
    })
    .optional()
    .describe(
      "A schema you registered (PUT /v1/schemas/{name}): `orders` for its latest version, `orders@3` for one",
    ),
  output: z
    .enum(["flag", "basic", "detailed"])
    .default("basic")
    .describe("JSON Schema 2020-12 §12 output format"),
  format_assertion: z
    .boolean()
    .default(false)
    .describe("Assert `format` instead of treating it as an annotation"),
  enrich: enrichSchema,
  dialect: z
    .enum(["compatible", "strict"])
    .default("compatible")
    .describe(
      "`compatible`: keywords of a later draft that the schema's draft leaves free (`const`, `contains`, `propertyNames`, `if`/`then`/`else` in draft-04; `if`/`then`/`else` in draft-06) apply, as ajv and @cfworker/json-schema do; `strict`: only the declared draft's keywords",
    ),
  strict: z
    .boolean()
    .default(false)
    .describe(
      "Refuse a schema with warnings (422 SCHEMA_INVALID listing them) instead of validating with it",
    ),
};

function exactlyOne(body: Record<string, unknown>, names: [string, ...string[]], ctx: z.RefinementCtx) {
  const present = names.filter((name) => body[name] !== undefined);
  if (present.length !== 1) {
    ctx.addIssue({ code: "custom", path: [names[0]], message: `send exactly one of ${names.join(" or ")}` });
  }
}

const validateBody = z
  .object({
    data: z.unknown().optional().describe("The document, as any JSON value"),
    json: z
      .string()
      .optional()
      .describe("The document as JSON text (syntax errors come back with line and column)"),
    ...schemaFields,
  })
  .strict()
  .superRefine((body, ctx) => {
    exactlyOne(body, ["data", "json"], ctx);
    exactlyOne(body, ["schema", "schema_url", "schema_id"], ctx);
  });

/** A hard ceiling for the request shape; the configured MAX_BATCH_DOCUMENTS is checked by the service. */
const BATCH_CEILING = 1000;

const batchBody = z
  .object({
    documents: z.array(z.unknown()).min(1).max(BATCH_CEILING).describe("The documents, as JSON values"),
    ...schemaFields,
  })
  .strict()
  .superRefine((body, ctx) => exactlyOne(body, ["schema", "schema_url", "schema_id"], ctx));

type ValidateBody = z.infer<typeof validateBody>;
type BatchBody = z.infer<typeof batchBody>;

const outputUnit = z
  .object({
    valid: z.boolean().optional(),
    keywordLocation: z.string(),
    absoluteKeywordLocation: z
      .string()
      .optional()
      .describe(
        "The keyword's schema URI and JSON Pointer; for a schema without an absolute $id, a reference relative to it (`#/properties/id/type`)",
      ),
    instanceLocation: z
      .string()
      .describe("JSON Pointer to the failing value (for required/dependentRequired: the missing property)"),
    error: z.string().optional(),
    keyword: z.string().optional().describe('The failing keyword ("false" for a false schema)'),
    params: z
      .record(z.string(), z.unknown())
      .optional()
      .describe(
        "Machine-readable detail, named as ajv does: missingProperty, allowedValues, limit, comparison, additionalProperty, pattern, format, type, closestBranch, passingSchemas, ...",
      ),
    value: z
      .unknown()
      .optional()
      .describe("The offending value; longer than 200 characters of JSON it is cut, as text"),
    valueTruncated: z.boolean().optional(),
    suggestion: z.string().optional().describe("A likely fix for a near-miss enum value or property name"),
    line: z.number().int().optional().describe("With `json` text: 1-based line of the value"),
    column: z.number().int().optional().describe("With `json` text: 1-based column of the value"),
  })
  .loose();

const schemaWarning = z.object({
  code: z.enum([
    "unknown_keyword",
    "keyword_not_in_draft",
    "unknown_format",
    "unknown_type",
    "keyword_without_effect",
    "ref_sibling_ignored",
  ]),
  schemaLocation: z.string().describe("JSON Pointer to the member in the schema"),
  keyword: z.string(),
  message: z.string(),
  suggestion: z.string().optional().describe('The likely intended name ("required" for "requried")'),
});

const warningsFields = {
  warnings: z
    .array(schemaWarning)
    .optional()
    .describe(
      'What in the schema is valid but likely a mistake (computed once per schema); "strict": true refuses them',
    ),
  warningsTruncated: z.boolean().optional().describe("More warnings existed than the 100 listed"),
};

const verdictSchema = z.object({
  valid: z.boolean(),
  errors: z
    .array(outputUnit)
    .optional()
    .describe("basic: flat list; detailed: a hierarchy (absent in flag mode)"),
  keywordLocation: z.string().optional(),
  instanceLocation: z.string().optional(),
  truncated: z
    .boolean()
    .optional()
    .describe("More errors existed than MAX_ERRORS (or than speculative branches may hold)"),
  enrichmentTruncated: z
    .boolean()
    .optional()
    .describe("Enrichment: defaults or annotations left out at MAX_ENRICHMENT_BYTES"),
  data: z.unknown().optional().describe("Enrichment: the document with defaults and normalised formats"),
  annotations: z
    .record(z.string(), z.unknown())
    .optional()
    .describe("Enrichment: annotations by instance location"),
});

/** Units admitted per document: 2 when enrichment is asked for, since it may be performed. */
const unitsPerDocument = (enrich: ValidateBody["enrich"]) => (enrich === false ? 1 : 2);
/** Units billed for a verdict: enrichment is performed (and billed) only for a valid document. */
const billedUnitsOf = (enrich: ValidateBody["enrich"], verdict: { valid: boolean }) =>
  enrich !== false && verdict.valid ? 2 : 1;

function schemaInput(body: ValidateBody | BatchBody, account: string): SchemaInput {
  if (body.schema_id !== undefined) {
    return { schemaId: { account, id: parseSchemaId(body.schema_id) as SchemaId } };
  }
  return body.schema_url !== undefined ? { schemaUrl: body.schema_url } : { schema: body.schema };
}

function requestOf(
  body: ValidateBody | BatchBody,
  documents: DocumentInput[],
  account: string,
): ValidationRequest {
  return {
    schema: schemaInput(body, account),
    documents,
    output: body.output,
    formatAssertion: body.format_assertion,
    enrich: body.enrich,
    dialect: body.dialect,
    strict: body.strict,
  };
}

const refusals = {
  400: problemResponse(
    "MALFORMED_JSON (with line, column and a hint) or BAD_REQUEST (a pointer per problem, hints)",
    undefined,
    MALFORMED_BODY_EXAMPLES,
  ),
  ...billedCallRefusals,
  415: problemResponse("UNSUPPORTED_MEDIA_TYPE: the body is not sent as JSON"),
  422: problemResponse(
    "No verdict, not billed: DOCUMENT_NOT_JSON (with line and column), SCHEMA_INVALID (located in the schema: schemaLocation, value, allowedValues, suggestion, and the metaschema's errors; or, with strict, the warnings), SCHEMA_UNRESOLVABLE, SCHEMA_UNAVAILABLE, LIMIT_EXCEEDED",
    undefined,
    SCHEMA_INVALID_EXAMPLES,
  ),
  404: problemResponse(
    "SCHEMA_NOT_FOUND: no registered schema of that name or version (schema_id); not billed",
  ),
  410: problemResponse("SCHEMA_RETIRED: the registered schema was retired (schema_id); not billed"),
  409: idempotencyInUse,
};

const validateResponse = verdictSchema.extend({ ...warningsFields, units: z.number().int() });
const batchResponse = z.object({
  valid: z.boolean(),
  results: z.array(verdictSchema),
  ...warningsFields,
  units: z.number().int(),
});

// The body is checked before admission, which needs it for its units (a refused one counts as one request).
const validateRoute = createRoute({
  method: "post",
  path: "/v1/validate",
  summary: "Validate (and optionally enrich) one JSON document",
  description:
    "200 for any verdict, valid or not; billed 1 unit, 2 when a valid document was enriched (an invalid one is not enriched: 1). Errors carry instanceLocation, keywordLocation, absoluteKeywordLocation and a message (the standard's output units), plus keyword, params, value, suggestion and, for `json` text, line and column. `warnings` lists what in the schema is valid but likely a mistake; `strict: true` refuses such a schema.",
  tags: ["Validation"],
  security: API_KEY_OR_TOKEN,
  middleware: [
    requireCredential(),
    countRefusedRequest(),
    requireJson,
    jsonBody(validateBody),
    admitUsage<{ out: { json: ValidateBody } }>({
      units: (c) => unitsPerDocument(c.req.valid("json").enrich),
      idempotent: true,
    }),
  ] as const,
  request: {
    headers: idempotencyHeaders,
    body: jsonRequest(validateBody, {
      schema: {
        type: "object",
        required: ["id", "email"],
        properties: { id: { type: "integer" }, email: { type: "string", format: "e-mail" } },
      },
      data: { id: "x", emial: "a@b.c" },
    }),
  },
  responses: {
    200: jsonResponse("The verdict", validateResponse, {
      headers: verdictHeaders,
      example: {
        valid: false,
        errors: [
          {
            valid: false,
            keywordLocation: "/properties/id/type",
            absoluteKeywordLocation: "#/properties/id/type",
            instanceLocation: "/id",
            error: "must be integer (got string)",
            keyword: "type",
            params: { type: "integer" },
            value: "x",
          },
          {
            valid: false,
            keywordLocation: "/required",
            absoluteKeywordLocation: "#/required",
            instanceLocation: "/email",
            error: 'must have required property "email"',
            keyword: "required",
            params: { missingProperty: "email" },
            suggestion: 'The document has "emial": did you mean "email"?',
          },
        ],
        warnings: [
          {
            code: "unknown_format",
            schemaLocation: "/properties/email/format",
            keyword: "format",
            message: '"e-mail" is not a format this API knows: it is never asserted; did you mean "email"?',
            suggestion: "email",
          },
        ],
        units: 1,
      },
    }),
    ...refusals,
  },
});

const batchRoute = createRoute({
  method: "post",
  path: "/v1/validate/batch",
  summary: "Validate many documents against one schema",
  description:
    "Results in the documents' order; billed one unit per document, two for each valid document enriched (`units` says what was billed).",
  tags: ["Validation"],
  security: API_KEY_OR_TOKEN,
  middleware: [
    requireCredential(),
    countRefusedRequest(),
    requireJson,
    jsonBody(batchBody),
    admitUsage<{ out: { json: BatchBody } }>({
      units: (c) => {
        const body = c.req.valid("json");
        return body.documents.length * unitsPerDocument(body.enrich);
      },
      idempotent: true,
    }),
  ] as const,
  request: {
    headers: idempotencyHeaders,
    body: jsonRequest(batchBody, { schema: { type: "integer" }, documents: [1, "two", 3] }),
  },
  responses: {
    200: jsonResponse("One verdict per document", batchResponse, {
      headers: verdictHeaders,
      example: {
        valid: false,
        results: [
          { valid: true },
          {
            valid: false,
            errors: [{ keywordLocation: "/type", instanceLocation: "", error: "must be integer" }],
          },
          { valid: true },
        ],
        units: 3,
      },
    }),
    ...refusals,
  },
});

export const validateRoutes = newRouter()
  .openapi(validateRoute, async (c) => {
    const body = c.req.valid("json");
    const document: DocumentInput = body.json !== undefined ? { json: body.json } : { data: body.data };
    const { results, ...warnings } = await c
      .get("services")
      .validation.check(requestOf(body, [document], c.get("auth").sub));
    const [verdict] = results;
    if (!verdict) throw new Error("the validation service gave no verdict for one document");
    const units = billedUnitsOf(body.enrich, verdict);
    c.set("billedUnits", units);
    return c.json({ ...verdict, ...warnings, units }, 200);
  })
  .openapi(batchRoute, async (c) => {
    const body = c.req.valid("json");
    const documents = body.documents.map((data) => ({ data }));
    const { results, ...warnings } = await c
      .get("services")
      .validation.check(requestOf(body, documents, c.get("auth").sub));
    const units = results.reduce((sum, result) => sum + billedUnitsOf(body.enrich, result), 0);
    c.set("billedUnits", units);
    return c.json({ valid: results.every((result) => result.valid), results, ...warnings, units }, 200);
  });
