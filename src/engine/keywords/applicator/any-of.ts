import { closeGroup, tick } from "../../context";
import type { KeywordDefinition } from "../../keyword";

/**
 * `anyOf`. Branches run speculatively (their errors may be dropped); with unevaluated* every branch
 * runs, since each one that passes contributes evaluated properties.
 */
export const anyOf: KeywordDefinition = {
  keyword: "anyOf",
  instance: "any",
  drafts: [4, 6, 7, 2019, 2020],
  compile(value, _schema, compiler) {
    if (!Array.isArray(value)) return null;
    const nodes = value.map((_, i) => compiler.subschema("anyOf", i));
    const location = compiler.location("anyOf");
    const track = compiler.tracksEvaluation;
    return (instance, context) => {
      const mark = context.errors.length;
      context.speculative++;
      let ok = false;
      for (const node of nodes) {
        if (++context.steps > context.nextCheck) tick(context);
        const annotationMark = context.annotations.length;
        if (node.validate(instance, context)) {
          ok = true;
          if (!track) break;
        } else context.annotations.length = annotationMark;
      }
      context.speculative--;
      if (context.full)
        closeGroup(context, mark, ok, location, "must match at least one of the subschemas", false, true);
      return ok;
    };
  },
};
