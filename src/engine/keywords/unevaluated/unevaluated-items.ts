import { applyChildTracked, report } from "../../context";
import type { KeywordDefinition } from "../../keyword";

/** `unevaluatedItems`: runs last, on the items no other keyword of the schema evaluated. */
export const unevaluatedItems: KeywordDefinition = {
  keyword: "unevaluatedItems",
  instance: "array",
  drafts: [2019, 2020],
  late: true,
  compile(value, _schema, compiler) {
    const node = compiler.subschema("unevaluatedItems");
    const location = compiler.location("unevaluatedItems");
    const isFalse = value === false;
    return (instance, context) => {
      const evaluated = context.evaluated;
      if (!evaluated || evaluated.allItems) return true;
      const array = instance as unknown[];
      let ok = true;
      for (let i = evaluated.items; i < array.length; i++) {
        if (evaluated.itemSet?.has(i)) continue;
        if (isFalse) {
          ok = false;
          if (!context.full) return false;
          report(context, location, `item ${i} is not allowed (unevaluated)`, i, {
            params: { unevaluatedItem: i },
          });
          continue;
        }
        if (!applyChildTracked(node, array[i], i, context)) {
          ok = false;
          if (!context.full) return false;
        }
      }
      if (ok) evaluated.allItems = true;
      return ok;
    };
  },
};
