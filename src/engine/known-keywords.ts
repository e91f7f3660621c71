import type { Draft } from "./registry";

// What the schema warnings (schema-warnings.ts) know about keywords: which draft defines which, the
// JSON type each type-specific keyword applies to, and the non-standard names that are not mistakes.

const ALL: readonly Draft[] = [4, 6, 7, 2019, 2020];
const FROM_06: readonly Draft[] = [6, 7, 2019, 2020];
const FROM_07: readonly Draft[] = [7, 2019, 2020];
const FROM_2019: readonly Draft[] = [2019, 2020];

/** Every standard keyword and the drafts whose metaschemas define it. */
export const KEYWORD_DRAFTS: Readonly<Record<string, readonly Draft[]>> = {
  id: [4],
  $id: FROM_06,
  $schema: ALL,
  $ref: ALL,
  $comment: FROM_07,
  $anchor: FROM_2019,
  $vocabulary: FROM_2019,
  // Containers that $refs point into by JSON Pointer, whichever draft names them.
  $defs: ALL,
  // Kept by the 2019-09 and 2020-12 metaschemas for compatibility (and run there).
  definitions: ALL,
  dependencies: ALL,
  $recursiveRef: [2019],
  $recursiveAnchor: [2019],
  $dynamicRef: [2020],
  $dynamicAnchor: [2020],
  title: ALL,
  description: ALL,
  default: ALL,
  examples: FROM_06,
  deprecated: FROM_2019,
  readOnly: FROM_07,
  writeOnly: FROM_07,
  type: ALL,
  enum: ALL,
  const: FROM_06,
  multipleOf: ALL,
  maximum: ALL,
  exclusiveMaximum: ALL,
  minimum: ALL,
  exclusiveMinimum: ALL,
  maxLength: ALL,
  minLength: ALL,
  pattern: ALL,
  format: ALL,
  contentEncoding: FROM_07,
  contentMediaType: FROM_07,
  contentSchema: FROM_2019,
  items: ALL,
  additionalItems: [4, 6, 7, 2019],
  prefixItems: [2020],
  maxItems: ALL,
  minItems: ALL,
  uniqueItems: ALL,
  contains: FROM_06,
  maxContains: FROM_2019,
  minContains: FROM_2019,
  unevaluatedItems: FROM_2019,
  maxProperties: ALL,
  minProperties: ALL,
  required: ALL,
  properties: ALL,
  patternProperties: ALL,
  additionalProperties: ALL,
  propertyNames: FROM_06,
  dependentRequired: FROM_2019,
  dependentSchemas: FROM_2019,
  unevaluatedProperties: FROM_2019,
  allOf: ALL,
  anyOf: ALL,
  oneOf: ALL,
  not: ALL,
  if: FROM_07,
  // biome-ignore lint/suspicious/noThenProperty: the JSON Schema keyword
  then: FROM_07,
  else: FROM_07,
};

/** The standard keywords of one draft (for "did you mean"). */
export function keywordsOf(draft: Draft): string[] {
  return Object.keys(KEYWORD_DRAFTS).filter((k) => KEYWORD_DRAFTS[k]?.includes(draft));
}

/** The JSON type a type-specific keyword applies to; others apply to every instance. */
export const KEYWORD_INSTANCE: Readonly<Record<string, "string" | "number" | "object" | "array">> = {
  minLength: "string",
  maxLength: "string",
  pattern: "string",
  contentEncoding: "string",
  contentMediaType: "string",
  contentSchema: "string",
  minimum: "number",
  maximum: "number",
  exclusiveMinimum: "number",
  exclusiveMaximum: "number",
  multipleOf: "number",
  properties: "object",
  patternProperties: "object",
  additionalProperties: "object",
  required: "object",
  minProperties: "object",
  maxProperties: "object",
  dependencies: "object",
  dependentRequired: "object",
  dependentSchemas: "object",
  propertyNames: "object",
  unevaluatedProperties: "object",
  items: "array",
  prefixItems: "array",
  additionalItems: "array",
  minItems: "array",
  maxItems: "array",
  uniqueItems: "array",
  contains: "array",
  minContains: "array",
  maxContains: "array",
  unevaluatedItems: "array",
};

/**
 * Annotations of editors and tools, not JSON Schema and not mistakes: VS Code's JSON language
 * service, ajv-errors, OpenAPI's documentation members, json-schema-to-typescript, ... (`x-…` too).
 */
export const VENDOR_KEYWORDS: ReadonlySet<string> = new Set([
  "markdownDescription",
  "markdownEnumDescriptions",
  "enumDescriptions",
  "enumItemLabels",
  "deprecationMessage",
  "errorMessage",
  "patternErrorMessage",
  "defaultSnippets",
  "doNotSuggest",
  "suggestSortText",
  "allowComments",
  "allowTrailingCommas",
  "tsType",
  "tsEnumNames",
  "tsAdditionalProperties",
  // Angular CLI schematics
  "$default",
  "example",
  "externalDocs",
  "xml",
  "discriminator",
]);

/** Whether a member name is a vendor annotation (never warned about): listed, `x-…`, or namespaced (`meta:enum`). */
export function isVendorKeyword(name: string): boolean {
  return name.startsWith("x-") || name.startsWith("x_") || name.includes(":") || VENDOR_KEYWORDS.has(name);
}

/** Annotations that later drafts standardised: in an earlier one they are harmless (not warned about). */
export const LATER_ANNOTATIONS: ReadonlySet<string> = new Set([
  "$comment",
  "deprecated",
  "readOnly",
  "writeOnly",
  "examples",
  "contentMediaType",
  "contentEncoding",
]);

/** Formats that are not JSON Schema's but common and harmless (OpenAPI's): not warned about. */
export const EXTRA_FORMATS: ReadonlySet<string> = new Set([
  "int32",
  "int64",
  "float",
  "double",
  "byte",
  "binary",
  "password",
  // schemars (Rust) integer widths
  "int8",
  "int16",
  "uint",
  "uint8",
  "uint16",
  "uint32",
  "uint64",
]);

/** Siblings of a `$ref` that are annotations: ignoring them beside a draft-07 `$ref` loses nothing. */
export const HARMLESS_REF_SIBLINGS: ReadonlySet<string> = new Set([
  "$comment",
  "title",
  "description",
  "examples",
  "definitions",
  "$defs",
  "$id",
  "id",
  "$schema",
]);
