import { closeGroup, spend } from "../../context";
import type { KeywordDefinition } from "../../keyword";

/** `allOf`. */
export const allOf: KeywordDefinition = {
  keyword: "allOf",
  instance: "any",
  drafts: [4, 6, 7, 2019, 2020],
  compile(value, _schema, compiler) {
    if (!Array.isArray(value)) return null;
    const nodes = value.map((_, i) => compiler.subschema("allOf", i));
    const location = compiler.location("allOf");
    return (instance, context) => {
      spend(context, nodes.length);
      if (!context.full) {
        for (const node of nodes) if (!node.validate(instance, context)) return false;
        return true;
      }
      const mark = context.errors.length;
      let ok = true;
      for (const node of nodes) if (!node.validate(instance, context)) ok = false;
      closeGroup(context, mark, ok, location, "must match all of the subschemas", true);
      return ok;
    };
  },
};
