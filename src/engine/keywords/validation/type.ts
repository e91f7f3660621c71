import { type Check, report } from "../../context";
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
    const types = typeList(value);
    const mask = maskOf(value);
    const location = compiler.location("type");
    const expected = types.join(", ");
    const detail = { params: { type: value } };
    const message = (instance: unknown): string =>
      `must be ${types.length > 1 ? `one of ${expected}` : expected} (got ${jsonTypeOf(instance)})`;
    let test: Check;
    if (mask === 32) test = (x) => typeof x === "string";
    else if (mask === 16) test = (x) => typeof x === "number";
    else if (mask === 64) test = (x) => Number.isInteger(x);
    else if (mask === 4) test = (x) => typeof x === "object" && x !== null && !Array.isArray(x);
    else if (mask === 8) test = (x) => Array.isArray(x);
    else if (mask === 2) test = (x) => typeof x === "boolean";
    else test = (x) => typeMatches(x, mask);
    return (instance, context) => {
      if (test(instance, context)) return true;
      if (context.full) report(context, location, message(instance), undefined, detail);
      return false;
    };
  },
};
