// The validation engine: an eval-free JSON Schema validator (draft-04 to 2020-12), and the only
// module the rest of the code base imports from it.
//
//   const compiled = await compileSchema(schema, { resolveRemote, formatAssertion });
//   const result = compiled.validate(document, { output: "basic", enrich: true });
//
// compileSchema is async (it may fetch remote $refs and custom metaschemas through `resolveRemote`);
// validate is synchronous and a CompiledSchema is immutable, so one can be cached and shared.

export { type CompileOptions, compileSchema, type DialectName } from "./compile-schema";
export {
  CompiledSchema,
  DEFAULT_MAX_ENRICHMENT_BYTES,
  type StepPool,
  type ValidateOptions,
  type ValidationResult,
} from "./compiled-schema";
export type { EnrichOptions, LocationAnnotations } from "./enrich";
export { type LimitKind, SchemaError, type SchemaErrorKind, ValidationLimitError } from "./errors";
export { canonicalJson, jsonEqual } from "./json";
export type { OutputUnit } from "./output";
export type { Draft } from "./registry";
export type { SchemaProblem } from "./schema-problem";
export { MAX_WARNINGS, type SchemaWarning, type SchemaWarningCode } from "./schema-warnings";
