import { COMPARED_NODES_PER_UNIT } from "../../budget";
import { report, spend, type ValidationContext } from "../../context";
import { canonicalJson, jsonEqual, jsonNodeCount } from "../../json";
import type { KeywordDefinition } from "../../keyword";

/**
 * The indexes of two equal items, or null. Primitives go through a Map; short arrays of objects are
 * compared pairwise, long ones by canonical text, so the cost stays linear in the array's size.
 */
export function findDuplicate(items: unknown[], context?: ValidationContext): [number, number] | null {
  const n = items.length;
  if (n < 2) return null;
  let allPrimitive = true;
  for (let i = 0; i < n; i++) {
    const v = items[i];
    if (typeof v === "object" && v !== null) {
      allPrimitive = false;
      break;
    }
  }
  // Spent before the work: pairwise, each item is compared with up to 15 others; by canonical
  // text, each node is written once (about as dear as a subschema evaluation).
  if (!allPrimitive && context) {
    const nodes = jsonNodeCount(items);
    spend(context, n <= 16 ? Math.floor((nodes * (n - 1)) / COMPARED_NODES_PER_UNIT) : nodes);
  }
  // A few primitives are compared pairwise (=== is JSON equality on them: JSON has no NaN), with
  // no Map to build; more go through one.
  if (allPrimitive && n <= 8) {
    for (let i = 1; i < n; i++) {
      const v = items[i];
      for (let j = 0; j < i; j++) if (items[j] === v) return [j, i];
    }
    return null;
  }
  if (allPrimitive) {
    const seen = new Map<unknown, number>();
    for (let i = 0; i < n; i++) {
      const previous = seen.get(items[i]);
      if (previous !== undefined) return [previous, i];
      seen.set(items[i], i);
    }
    return null;
  }
  if (n <= 16) {
    for (let i = 0; i < n; i++)
      for (let j = i + 1; j < n; j++) if (jsonEqual(items[i], items[j])) return [i, j];
    return null;
  }
  const seen = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const v = items[i];
    const key = typeof v === "object" && v !== null ? canonicalJson(v) : `${typeof v}:${String(v)}`;
    const previous = seen.get(key);
    if (previous !== undefined) return [previous, i];
    seen.set(key, i);
  }
  return null;
}

/** `uniqueItems`. */
export const uniqueItems: KeywordDefinition = {
  keyword: "uniqueItems",
  instance: "array",
  drafts: [4, 6, 7, 2019, 2020],
  compile(value, _schema, compiler) {
    if (value !== true) return null;
    const location = compiler.location("uniqueItems");
    return (instance, context) => {
      spend(context, (instance as unknown[]).length);
      const duplicate = findDuplicate(instance as unknown[], context);
      if (!duplicate) return true;
      if (context.full)
        report(
          context,
          location,
          `must not contain duplicate items (items ${duplicate[0]} and ${duplicate[1]} are equal)`,
          undefined,
          { params: { i: duplicate[0], j: duplicate[1] } },
        );
      return false;
    };
  },
};
