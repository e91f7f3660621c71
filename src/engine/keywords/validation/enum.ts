import { COMPARED_NODES_PER_UNIT } from "../../budget";
import { type Check, type ErrorDetail, report, spend } from "../../context";
import { jsonEqual, jsonNodeCount } from "../../json";
import type { KeywordDefinition } from "../../keyword";
import { describeValue, listedValues } from "./describe-value";

/** `enum`: primitives are looked up in a Set, only objects and arrays are compared structurally. */
export const enumKeyword: KeywordDefinition = {
  keyword: "enum",
  instance: "any",
  drafts: [4, 6, 7, 2019, 2020],
  compile(value, _schema, compiler) {
    if (!Array.isArray(value)) return null;
    const values = value as unknown[];
    const primitives = new Set<unknown>();
    const complex: unknown[] = [];
    for (const v of values) {
      if (typeof v === "object" && v !== null) complex.push(v);
      else primitives.add(v);
    }
    // Comparing an object or array with every structured value visits at most all their nodes.
    let nodes = 0;
    for (const c of complex) nodes += jsonNodeCount(c);
    const cost = complex.length + Math.floor(nodes / COMPARED_NODES_PER_UNIT);
    const location = compiler.location("enum");
    // Written on the first error only: most compiled enums never report one.
    let failure: { message: string; detail: ErrorDetail } | undefined;
    const describe = () => {
      // Listed up to MAX_PARAM_CHARS of JSON; suggestions look among the strings.
      const listed = listedValues(values);
      return {
        message:
          values.length <= 10
            ? `must be one of ${values.map(describeValue).join(", ")}`
            : "must be one of the allowed values",
        detail: {
          params: listed.truncated
            ? { allowedValues: listed.values, allowedValuesTruncated: true }
            : { allowedValues: listed.values },
          candidates: values.filter((v) => typeof v === "string"),
        },
      };
    };
    const check: Check = (instance, context) => {
      if (typeof instance !== "object" || instance === null) {
        if (primitives.has(instance)) return true;
      } else {
        spend(context, cost);
        for (const c of complex) if (jsonEqual(instance, c)) return true;
      }
      if (context.full) {
        failure ??= describe();
        report(context, location, failure.message, undefined, failure.detail);
      }
      return false;
    };
    if (complex.length === 0) primitiveValues.set(check, primitives);
    return check;
  },
};

/** The values of each `enum` check of primitives only, for a scalar schema's rule (flag-scalar-check.ts). */
const primitiveValues = new WeakMap<Check, ReadonlySet<unknown>>();

/** The values an `enum` check of primitives only looks up, or undefined for any other check. */
export function enumValuesOfCheck(check: Check): ReadonlySet<unknown> | undefined {
  return primitiveValues.get(check);
}
