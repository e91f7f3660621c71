import { applyChildTracked, report } from "../../context";
import type { JsonObject } from "../../json";
import type { KeywordDefinition } from "../../keyword";

/** `unevaluatedProperties`: runs last, on the properties no other keyword of the schema evaluated. */
export const unevaluatedProperties: KeywordDefinition = {
  keyword: "unevaluatedProperties",
  instance: "object",
  drafts: [2019, 2020],
  late: true,
  compile(value, _schema, compiler) {
    const node = compiler.subschema("unevaluatedProperties");
    const location = compiler.location("unevaluatedProperties");
    const isFalse = value === false;
    return (instance, context) => {
      const evaluated = context.evaluated;
      if (!evaluated || evaluated.allProperties) return true;
      let ok = true;
      for (const k in instance as JsonObject) {
        if (evaluated.properties?.has(k)) continue;
        if (isFalse) {
          ok = false;
          if (!context.full) return false;
          report(context, location, `property ${JSON.stringify(k)} is not allowed (unevaluated)`, k, {
            params: { unevaluatedProperty: k },
          });
          continue;
        }
        if (!applyChildTracked(node, (instance as JsonObject)[k], k, context)) {
          ok = false;
          if (!context.full) return false;
        }
      }
      if (ok) evaluated.allProperties = true;
      return ok;
    };
  },
};
