import { closeGroup, type Node, tick } from "../../context";
import type { KeywordDefinition } from "../../keyword";
import { ClosestBranch } from "./closest-branch";

/** `oneOf`. Flag mode stops at the second match; full mode names the matching branches. */
export const oneOf: KeywordDefinition = {
  keyword: "oneOf",
  instance: "any",
  drafts: [4, 6, 7, 2019, 2020],
  compile(value, _schema, compiler) {
    if (!Array.isArray(value)) return null;
    const nodes = value.map((_, i) => compiler.subschema("oneOf", i));
    const location = compiler.location("oneOf");
    return (instance, context) => {
      const mark = context.errors.length;
      // Built only once a branch fails in full mode: a valid instance allocates nothing here.
      let closest: ClosestBranch | null = null;
      context.speculative++;
      let count = 0;
      const matched: number[] = [];
      for (let i = 0; i < nodes.length; i++) {
        if (++context.steps > context.nextCheck) tick(context);
        const annotationMark = context.annotations.length;
        const from = context.errors.length;
        if ((nodes[i] as Node).validate(instance, context)) {
          count++;
          matched.push(i);
          if (count > 1 && !context.full) break;
        } else {
          context.annotations.length = annotationMark;
          if (context.full) {
            closest ??= new ClosestBranch();
            closest.consider(context.errors, i, from);
          }
        }
      }
      context.speculative--;
      const ok = count === 1;
      if (context.full) {
        const message = "must match exactly one of the subschemas";
        if (count === 0 && closest) closest.close(context, mark, location, message);
        else {
          if (count > 1) context.errors.length = mark;
          closeGroup(
            context,
            mark,
            ok,
            location,
            count > 1 ? `${message} (matched ${matched.length}: ${matched.join(", ")})` : message,
            false,
            true,
            count > 1 ? { params: { passingSchemas: matched } } : undefined,
          );
        }
      }
      return ok;
    };
  },
};
