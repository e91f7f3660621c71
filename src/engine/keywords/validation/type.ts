import { report } from "../../context";
import { jsonTypeOf } from "../../json";
import { type KeywordDefinition, TYPE_BITS } from "../../keyword";

function typeList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value];
}

function maskOf(value: unknown): number {
  let mask = 0;
  for (const name of typeList(value)) if (typeof name === "string") mask |= TYPE_BITS[name] ?? 0;
  return mask;
}

function typeMatches(instance: unknown, mask: number): boolean {
  switch (typeof instance) {
    case "string":
      return (mask & 32) !== 0;
    case "number":
      return (mask & 16) !== 0 || ((mask & 64) !== 0 && Number.isInteger(instance));
    case "boolean":
      return (mask & 2) !== 0;
    case "object":
      if (instance === null) return (mask & 1) !== 0;
      return (mask & (Array.isArray(instance) ? 8 : 4)) !== 0;
    default:
      return false;
  }
}

/** The test of each single-type mask, shared by every schema (the closures hold no state). */
const SINGLE_TYPE_TESTS: Record<number, (instance: unknown) => boolean> = {
  32: (x) => typeof x === "string",
  16: (x) => typeof x === "number",
  64: (x) => Number.isInteger(x),
  4: (x) => typeof x === "object" && x !== null && !Array.isArray(x),
  8: (x) => Array.isArray(x),
  2: (x) => typeof x === "boolean",
};

function typeMessage(value: unknown, instance: unknown): string {
  const types = typeList(value);
  const expected = types.join(", ");
  return `must be ${types.length > 1 ? `one of ${expected}` : expected} (got ${jsonTypeOf(instance)})`;
}

/**
 * `type`. The compiler folds its mask into the dispatch on the instance's JSON type, so this check
 * only runs where the type is wrong (and for integers among numbers).
 */
export const type: KeywordDefinition = {
  keyword: "type",
  instance: "any",
  drafts: [4, 6, 7, 2019, 2020],
  typeMask: maskOf,
  compile(value, _schema, compiler) {
    if (value === undefined) return null;
    const mask = maskOf(value);
    const location = compiler.location("type");
    const test = SINGLE_TYPE_TESTS[mask] ?? ((x: unknown) => typeMatches(x, mask));
    return (instance, context) => {
      if (test(instance)) return true;
      if (context.full)
        report(context, location, typeMessage(value, instance), undefined, { params: { type: value } });
      return false;
    };
  },
};
