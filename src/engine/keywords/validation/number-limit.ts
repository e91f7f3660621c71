import { type Check, report } from "../../context";
import type { SchemaCompiler } from "../../keyword";

/** The check of a numeric limit keyword: `test(instance, limit)` must hold; `relation` names it
 * in the message (">=", ">", "<=", "<" are also what `test` computes). */
export function numberLimitCheck(
  compiler: SchemaCompiler,
  keyword: string,
  test: (instance: number, limit: number) => boolean,
  relation: string,
  limit: unknown,
): Check | null {
  if (typeof limit !== "number") return null;
  const location = compiler.location(keyword);
  const message = `must be ${relation} ${limit}`;
  const detail = {
    params: keyword === "multipleOf" ? { multipleOf: limit } : { comparison: relation, limit },
  };
  const fail: Check = (_instance, context) => {
    if (context.full) report(context, location, message, undefined, detail);
    return false;
  };
  // The comparisons written out rather than called through `test`: one call less per number.
  switch (relation) {
    case ">=":
      return (instance, context) => (instance as number) >= limit || fail(instance, context);
    case ">":
      return (instance, context) => (instance as number) > limit || fail(instance, context);
    case "<=":
      return (instance, context) => (instance as number) <= limit || fail(instance, context);
    case "<":
      return (instance, context) => (instance as number) < limit || fail(instance, context);
  }
  return (instance, context) => test(instance as number, limit) || fail(instance, context);
}
