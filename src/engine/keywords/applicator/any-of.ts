import { closeGroup, tick } from "../../context";
import type { KeywordDefinition } from "../../keyword";
import { ClosestBranch } from "./closest-branch";

/**
 * `anyOf`. Branches run speculatively (their errors may be dropped); with unevaluated* every branch
 * runs, since each one that passes contributes evaluated properties. When none passes, the errors
 * of the branch the instance came closest to come first.
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
      // Built only once a branch fails in full mode: a valid instance allocates nothing here.
      let closest: ClosestBranch | null = null;
      context.speculative++;
      let ok = false;
      for (let i = 0; i < nodes.length; i++) {
        if (++context.steps > context.nextCheck) tick(context);
        const annotationMark = context.annotations.length;
        const from = context.errors.length;
        if ((nodes[i] as (typeof nodes)[number]).validate(instance, context)) {
          ok = true;
          if (!track) break;
        } else {
          context.annotations.length = annotationMark;
          if (context.full) {
            closest ??= new ClosestBranch();
            closest.consider(context.errors, i, from);
          }
        }
      }
      context.speculative--;
      if (context.full) {
        const message = "must match at least one of the subschemas";
        if (ok || !closest) closeGroup(context, mark, ok, location, message, false, true);
        else closest.close(context, mark, location, message);
      }
      return ok;
    };
  },
};
