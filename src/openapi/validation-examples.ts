// Example problems of the validation routes, for their OpenAPI responses (the shapes are real:
// test/integration/validation/actionable-errors.test.ts asserts the same members).

import { ERROR_DOCS_PATH, type ErrorCode, errorAnchorOf } from "../errors";

const problem = (code: ErrorCode, status: number, title: string, detail: string, extra: object) => ({
  type: `${ERROR_DOCS_PATH}#${errorAnchorOf(code)}`,
  title,
  status,
  detail,
  instance: "/v1/validate",
  code,
  request_id: "5f0c1d9e-7a43-4c55-9f1e-2b8d6c3a9e10",
  ...extra,
});

/** 400 examples: a malformed body answered with its position and a hint. */
export const MALFORMED_BODY_EXAMPLES = {
  trailingComma: {
    summary: "A trailing comma",
    value: problem(
      "MALFORMED_JSON",
      400,
      "Malformed JSON body",
      'The request body is not valid JSON: unexpected character "}" at line 4, column 1.',
      { line: 4, column: 1, hint: 'Trailing comma: remove the "," before "}" (JSON allows none).' },
    ),
  },
};

/** 422 SCHEMA_INVALID examples: located in the schema, and strict with warnings. */
export const SCHEMA_INVALID_EXAMPLES = {
  schemaInvalid: {
    summary: "A schema invalid against its metaschema",
    value: problem(
      "SCHEMA_INVALID",
      422,
      "Schema is invalid",
      'The schema is invalid at /properties/name/type: "strng" must be one of "array", "boolean", "integer", "null", "number", "object", "string". Did you mean "string"?',
      {
        schemaLocation: "/properties/name/type",
        keyword: "enum",
        value: "strng",
        allowedValues: ["array", "boolean", "integer", "null", "number", "object", "string"],
        suggestion: 'Did you mean "string"?',
        errors: [],
      },
    ),
  },
  strict: {
    summary: '"strict": true and a schema with warnings',
    value: problem(
      "SCHEMA_INVALID",
      422,
      "Schema is invalid",
      'The schema has 1 warning and "strict" is on. At /requried: "requried" is not a draft 2020-12 keyword: it is ignored; did you mean "required"?',
      {
        schemaLocation: "/requried",
        warnings: [
          {
            code: "unknown_keyword",
            schemaLocation: "/requried",
            keyword: "requried",
            message: '"requried" is not a draft 2020-12 keyword: it is ignored; did you mean "required"?',
            suggestion: "required",
          },
        ],
      },
    ),
  },
};

/** 429 example: the free tier's monthly quota used up (a spend cap's says `quota_kind: "cap"`). */
export const QUOTA_EXCEEDED_EXAMPLES = {
  quota: {
    summary: "The free tier's monthly quota is used up",
    value: problem(
      "QUOTA_EXCEEDED",
      429,
      "Monthly quota or spend cap reached",
      "This call costs 1 units and 1000 were used this month: that would pass the free tier's quota of 1000 units a month (upgrade with POST /v1/billing/checkout for more). It resets at 2026-06-01T00:00:00.000Z. Not billed.",
      { quota_kind: "quota", quota: 1000, used: 1000, cost: 1, reset_at: "2026-06-01T00:00:00.000Z" },
    ),
  },
};
