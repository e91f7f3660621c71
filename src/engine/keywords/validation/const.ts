import { COMPARED_NODES_PER_UNIT } from "../../budget";
import { report, spend } from "../../context";
import { jsonEqual, jsonNodeCount } from "../../json";
import type { KeywordDefinition } from "../../keyword";
import { describeValue, listedValues } from "./describe-value";

/** `const`. */
export const constKeyword: KeywordDefinition = {
  keyword: "const",
  instance: "any",
  drafts: [6, 7, 2019, 2020],
  compile(value, _schema, compiler) {
    const location = compiler.location("const");
    const message = `must be equal to ${describeValue(value)}`;
    const detail = {
      // A large const is not repeated in every error: it is in the schema.
      params: listedValues([value]).truncated ? { allowedValueTruncated: true } : { allowedValue: value },
      candidates: typeof value === "string" ? [value] : undefined,
    };
    const primitive = typeof value !== "object" || value === null;
    // A comparison visits at most the constant's nodes.
    const cost = primitive ? 0 : Math.floor(jsonNodeCount(value) / COMPARED_NODES_PER_UNIT);
    return (instance, context) => {
      if (primitive) {
        if (instance === value) return true;
      } else {
        if (cost > 0) spend(context, cost);
        if (jsonEqual(instance, value)) return true;
      }
      if (context.full) report(context, location, message, undefined, detail);
      return false;
    };
  },
};
