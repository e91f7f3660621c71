import { report } from "../../context";
import type { JsonObject } from "../../json";
import type { KeywordDefinition } from "../../keyword";

/** `minProperties`. */
export const minProperties: KeywordDefinition = {
  keyword: "minProperties",
  instance: "object",
  drafts: [4, 6, 7, 2019, 2020],
  compile(value, _schema, compiler) {
    if (typeof value !== "number") return null;
    const min = value;
    const detail = { params: { limit: min } };
    const location = compiler.location("minProperties");
    return (instance, context) => {
      if (Object.keys(instance as JsonObject).length >= min) return true;
      if (context.full)
        report(
          context,
          location,
          `must have at least ${min} propert${min === 1 ? "y" : "ies"}`,
          undefined,
          detail,
        );
      return false;
    };
  },
};
