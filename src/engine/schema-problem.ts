import type { OutputUnit } from "./output";

/** The one metaschema error an invalid schema is explained by, located in the schema itself. */
export interface SchemaProblem {
  /** JSON Pointer into the schema (e.g. `/properties/name/type`). */
  schemaLocation: string;
  /** The metaschema keyword that failed (enum, type, minimum, ...). */
  keyword?: string;
  /** The bad value at `schemaLocation` (absent for a missing member). */
  value?: unknown;
  /** The values the metaschema allows there, when it lists them. */
  allowedValues?: unknown[];
  /** A likely fix ("Did you mean \"string\"?"). */
  suggestion?: string;
  /** A sentence for people: where, what is wrong, what would be right. */
  message: string;
}

/** Keywords that only group the errors of their subschemas: the cause is one of those errors. */
const GROUPING = new Set(["anyOf", "oneOf", "allOf", "not", "$ref", "$dynamicRef", "$recursiveRef"]);

const depth = (pointer: string): number => (pointer === "" ? 0 : pointer.split("/").length - 1);

/**
 * The deepest metaschema error about the schema (where a compiler would point): leaf keywords only,
 * the one at the deepest schema location, ties going to one that lists the allowed values, then to
 * the earliest (the closest anyOf/oneOf branch comes first).
 */
export function explainSchemaErrors(errors: readonly OutputUnit[]): SchemaProblem | undefined {
  let best: OutputUnit | undefined;
  let bestRank = -1;
  for (const unit of errors) {
    if (unit.keyword !== undefined && GROUPING.has(unit.keyword)) continue;
    const lists = unit.params && "allowedValues" in unit.params ? 1 : 0;
    const rank = depth(unit.instanceLocation) * 2 + lists;
    if (rank > bestRank) {
      best = unit;
      bestRank = rank;
    }
  }
  best ??= errors[0];
  if (!best) return undefined;
  const problem: SchemaProblem = { schemaLocation: best.instanceLocation, message: "" };
  if (best.keyword !== undefined) problem.keyword = best.keyword;
  if ("value" in best) problem.value = best.value;
  const allowed = best.params?.allowedValues;
  if (Array.isArray(allowed)) problem.allowedValues = allowed;
  if (best.suggestion) problem.suggestion = best.suggestion;
  const where = best.instanceLocation === "" ? "its root" : best.instanceLocation;
  const what = "value" in best && best.keyword !== "required" ? `${shortJson(best.value)} ` : "";
  problem.message =
    `The schema is invalid at ${where}: ${what}${best.error}.` +
    (best.suggestion ? ` ${best.suggestion}` : "");
  return problem;
}

function shortJson(value: unknown): string {
  const text = typeof value === "string" ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
