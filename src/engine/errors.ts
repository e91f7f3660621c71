import type { OutputUnit } from "./output";
import type { SchemaProblem } from "./schema-problem";

/** Why a schema could not be compiled. The route maps every kind to a 422. */
export type SchemaErrorKind = "invalid_schema" | "unresolvable_ref" | "unsupported";

/** The schema is unusable: invalid against its metaschema, a `$ref` cannot be resolved, or it uses
 * something the engine refuses to run (e.g. a regex feature without a linear-time implementation). */
export class SchemaError extends Error {
  constructor(
    readonly kind: SchemaErrorKind,
    message: string,
    /** For `invalid_schema`: the metaschema's errors (basic output units). */
    readonly errors: OutputUnit[] = [],
    /** For `unresolvable_ref`: the absolute URI that could not be resolved. */
    readonly ref?: string,
    /** For `unresolvable_ref`: the base URI the reference was resolved against. */
    readonly base?: string,
    /** For `invalid_schema`: the deepest metaschema error, located in the schema (explainSchemaErrors). */
    readonly problem?: SchemaProblem,
  ) {
    super(message);
    this.name = "SchemaError";
  }
}

/** Which validation limit was exceeded. */
export type LimitKind = "max_depth" | "budget" | "regex_budget" | "compiled_schema_bytes";

/** Validation stopped because the document or the work it needs exceeds a configured limit. */
export class ValidationLimitError extends Error {
  constructor(
    readonly kind: LimitKind,
    message: string,
    readonly limit: number,
  ) {
    super(message);
    this.name = "ValidationLimitError";
  }
}
