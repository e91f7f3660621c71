import { closeGroup, type Node, tick } from "../../context";
import type { KeywordDefinition } from "../../keyword";

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
      context.speculative++;
      let count = 0;
      const matched: number[] = [];
      for (let i = 0; i < nodes.length; i++) {
        if (++context.steps > context.nextCheck) tick(context);
        const annotationMark = context.annotations.length;
        if ((nodes[i] as Node).validate(instance, context)) {
          count++;
          matched.push(i);
          if (count > 1 && !context.full) break;
        } else context.annotations.length = annotationMark;
      }
      context.speculative--;
      const ok = count === 1;
      if (context.full) {
        if (count > 1) context.errors.length = mark;
        const message =
          count > 1
            ? `must match exactly one of the subschemas (matched ${matched.length}: ${matched.join(", ")})`
            : "must match exactly one of the subschemas";
        closeGroup(context, mark, ok, location, message, false, true);
      }
      return ok;
    };
  },
};
