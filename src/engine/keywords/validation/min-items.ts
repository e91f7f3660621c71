import { report } from "../../context";
import type { KeywordDefinition } from "../../keyword";

/** `minItems`. */
export const minItems: KeywordDefinition = {
  keyword: "minItems",
  instance: "array",
  drafts: [4, 6, 7, 2019, 2020],
  compile(value, _schema, compiler) {
    if (typeof value !== "number") return null;
    const min = value;
    const detail = { params: { limit: min } };
    const location = compiler.location("minItems");
    return (instance, context) => {
      if ((instance as unknown[]).length >= min) return true;
      if (context.full)
        report(context, location, `must have at least ${min} item${min === 1 ? "" : "s"}`, undefined, detail);
      return false;
    };
  },
};
