import { report } from "../../context";
import type { JsonObject } from "../../json";
import type { KeywordDefinition } from "../../keyword";

/** `maxProperties`. */
export const maxProperties: KeywordDefinition = {
  keyword: "maxProperties",
  instance: "object",
  drafts: [4, 6, 7, 2019, 2020],
  compile(value, _schema, compiler) {
    if (typeof value !== "number") return null;
    const max = value;
    const detail = { params: { limit: max } };
    const location = compiler.location("maxProperties");
    return (instance, context) => {
      if (Object.keys(instance as JsonObject).length <= max) return true;
      if (context.full) report(context, location, `must have at most ${max} properties`, undefined, detail);
      return false;
    };
  },
};
