import { applyChild, applyChildTracked, type Check, report } from "../../context";
import type { JsonObject } from "../../json";
import type { KeywordDefinition, SchemaCompiler } from "../../keyword";

/**
 * The `contains` check; `counted` honours the `minContains`/`maxContains` siblings (2019-09), which
 * have no check of their own. Without a maximum or evaluation tracking it stops at the minimum.
 */
export function containsCheck(schema: JsonObject, compiler: SchemaCompiler, counted: boolean): Check {
  const track = compiler.tracksEvaluation;
  const apply = track ? applyChildTracked : applyChild;
  const node = compiler.subschema("contains");
  const location = compiler.location("contains");
  const hasMin = counted && typeof schema.minContains === "number";
  const hasMax = counted && typeof schema.maxContains === "number";
  const minimum = hasMin ? (schema.minContains as number) : 1;
  const maximum = hasMax ? (schema.maxContains as number) : Number.POSITIVE_INFINITY;
  const minLocation = hasMin ? compiler.location("minContains") : location;
  const maxLocation = compiler.location("maxContains");
  const needAll = track || maximum !== Number.POSITIVE_INFINITY;
  return (instance, context) => {
    const array = instance as unknown[];
    const errorMark = context.errors.length;
    context.speculative++;
    let count = 0;
    const evaluated = context.evaluated;
    for (let i = 0; i < array.length; i++) {
      const mark = context.annotations.length;
      if (apply(node, array[i], i, context)) {
        count++;
        if (track && evaluated) {
          if (!evaluated.itemSet) evaluated.itemSet = new Set();
          evaluated.itemSet.add(i);
        }
        if (!needAll && count >= minimum) break;
      } else context.annotations.length = mark;
    }
    context.speculative--;
    context.errors.length = errorMark;
    if (count < minimum) {
      if (context.full) {
        const items = `${minimum} matching item${minimum === 1 ? "" : "s"}`;
        report(context, minLocation, `must contain at least ${items} (found ${count})`, undefined, {
          params: { minContains: minimum, count },
        });
      }
      return false;
    }
    if (count > maximum) {
      if (context.full) {
        const items = `${maximum} matching item${maximum === 1 ? "" : "s"}`;
        report(context, maxLocation, `must contain at most ${items} (found ${count})`, undefined, {
          params: { maxContains: maximum, count },
        });
      }
      return false;
    }
    return true;
  };
}

/** `contains`, with `minContains` and `maxContains`. */
export const contains: KeywordDefinition = {
  keyword: "contains",
  instance: "array",
  drafts: [2019, 2020],
  compile: (_value, schema, compiler) => containsCheck(schema, compiler, true),
};
