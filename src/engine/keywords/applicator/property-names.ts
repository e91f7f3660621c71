import { closeGroup, tick } from "../../context";
import type { JsonObject } from "../../json";
import type { KeywordDefinition } from "../../keyword";

/** `propertyNames`: names are strings, not properties, so nothing they evaluate counts. */
export const propertyNames: KeywordDefinition = {
  keyword: "propertyNames",
  instance: "object",
  drafts: [6, 7, 2019, 2020],
  compile(_value, _schema, compiler) {
    const node = compiler.subschema("propertyNames");
    const location = compiler.location("propertyNames");
    return (instance, context) => {
      let ok = true;
      const evaluated = context.evaluated;
      context.evaluated = null;
      for (const k in instance as JsonObject) {
        if (++context.steps > context.nextCheck) tick(context);
        if (!context.full) {
          if (!node.validate(k, context)) {
            context.evaluated = evaluated;
            return false;
          }
          continue;
        }
        const mark = context.errors.length;
        const r = node.validate(k, context);
        if (!r)
          closeGroup(
            context,
            mark,
            r,
            location,
            `property name ${JSON.stringify(k)} is invalid`,
            false,
            true,
            { params: { propertyName: k } },
          );
        if (!r) ok = false;
      }
      context.evaluated = evaluated;
      return ok;
    };
  },
};
