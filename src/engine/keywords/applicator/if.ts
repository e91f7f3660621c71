import { applyGrouped, spend } from "../../context";
import type { KeywordDefinition } from "../../keyword";

/**
 * `if` with `then`/`else`. Without either it only matters for what `if` evaluates, so it is compiled
 * only when the compilation tracks evaluation.
 */
export const ifKeyword: KeywordDefinition = {
  keyword: "if",
  instance: "any",
  drafts: [7, 2019, 2020],
  compile(_value, schema, compiler) {
    if (!("then" in schema || "else" in schema || compiler.tracksEvaluation)) return null;
    const ifNode = compiler.subschema("if");
    const thenNode = "then" in schema ? compiler.subschema("then") : null;
    const elseNode = "else" in schema ? compiler.subschema("else") : null;
    const thenLocation = compiler.location("then");
    const elseLocation = compiler.location("else");
    return (instance, context) => {
      spend(context, 2);
      const errorMark = context.errors.length;
      context.speculative++;
      const annotationMark = context.annotations.length;
      const condition = ifNode.validate(instance, context);
      if (!condition) context.annotations.length = annotationMark;
      context.speculative--;
      context.errors.length = errorMark;
      const branch = condition ? thenNode : elseNode;
      if (!branch) return true;
      if (!context.full) return branch.validate(instance, context);
      return applyGrouped(
        branch,
        instance,
        context,
        condition ? thenLocation : elseLocation,
        condition ? "must match the 'then' schema" : "must match the 'else' schema",
      );
    };
  },
};
