import { report, tick } from "../../context";
import type { KeywordDefinition } from "../../keyword";

/** `not`: whatever its subschema evaluated or annotated does not count. */
export const not: KeywordDefinition = {
  keyword: "not",
  instance: "any",
  drafts: [4, 6, 7, 2019, 2020],
  compile(_value, _schema, compiler) {
    const node = compiler.subschema("not");
    const location = compiler.location("not");
    return (instance, context) => {
      if (++context.steps > context.nextCheck) tick(context);
      const errorMark = context.errors.length;
      context.speculative++;
      const evaluated = context.evaluated;
      context.evaluated = null;
      const annotationMark = context.annotations.length;
      const r = node.validate(instance, context);
      context.annotations.length = annotationMark;
      context.evaluated = evaluated;
      context.speculative--;
      context.errors.length = errorMark;
      if (!r) return true;
      if (context.full) report(context, location, "must not match the schema in 'not'");
      return false;
    };
  },
};
