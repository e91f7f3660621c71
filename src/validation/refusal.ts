export type RefusalCode =
  | "DOCUMENT_NOT_JSON"
  | "SCHEMA_INVALID"
  | "SCHEMA_UNRESOLVABLE"
  | "SCHEMA_UNAVAILABLE"
  | "LIMIT_EXCEEDED";

/** The request cannot get a verdict; `detail` and `extensions` are safe to show the client. */
export class ValidationRefusal extends Error {
  constructor(
    readonly code: RefusalCode,
    readonly detail: string,
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(detail);
    this.name = "ValidationRefusal";
  }
}

/** A schema nested deeper than the limit: LIMIT_EXCEEDED max_depth. */
export function schemaTooDeep(what: string, maxDepth: number): ValidationRefusal {
  return new ValidationRefusal("LIMIT_EXCEEDED", `${what} is nested deeper than ${maxDepth} levels.`, {
    limit: "max_depth",
  });
}
