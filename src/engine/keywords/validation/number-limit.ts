import { type Check, report } from "../../context";
import type { SchemaCompiler } from "../../keyword";

/** The check of a numeric limit keyword: `test(instance, limit)` must hold. */
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
  return (instance, context) => {
    if (test(instance as number, limit)) return true;
    if (context.full) report(context, location, message, undefined, detail);
    return false;
  };
}
