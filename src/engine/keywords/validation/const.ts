import { report } from "../../context";
import { jsonEqual } from "../../json";
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
    return (instance, context) => {
      if (primitive ? instance === value : jsonEqual(instance, value)) return true;
      if (context.full) report(context, location, message, undefined, detail);
      return false;
    };
  },
};
