import { report } from "../../context";
import type { KeywordDefinition } from "../../keyword";

/** `maxItems`. */
export const maxItems: KeywordDefinition = {
  keyword: "maxItems",
  instance: "array",
  drafts: [4, 6, 7, 2019, 2020],
  compile(value, _schema, compiler) {
    if (typeof value !== "number") return null;
    const max = value;
    const detail = { params: { limit: max } };
    const location = compiler.location("maxItems");
    return (instance, context) => {
      if ((instance as unknown[]).length <= max) return true;
      if (context.full) report(context, location, `must have at most ${max} items`, undefined, detail);
      return false;
    };
  },
};
