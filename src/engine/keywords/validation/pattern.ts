import { type Check, report } from "../../context";
import type { KeywordDefinition } from "../../keyword";
import type { CompiledPattern } from "../../regex";

/** The compiled pattern of each `pattern` check, for a scalar schema's rule (flag-scalar-check.ts). */
const compiledPatterns = new WeakMap<Check, CompiledPattern>();

/** The compiled pattern a `pattern` check tests, or undefined for any other check. */
export function patternOfCheck(check: Check): CompiledPattern | undefined {
  return compiledPatterns.get(check);
}

/** `pattern`: an unanchored search, on the linear-time engine unless provably safe natively (regex/). */
export const pattern: KeywordDefinition = {
  keyword: "pattern",
  instance: "string",
  drafts: [4, 6, 7, 2019, 2020],
  compile(value, _schema, compiler) {
    if (typeof value !== "string") return null;
    const re = compiler.pattern(value);
    const location = compiler.location("pattern");
    const detail = { params: { pattern: value } };
    const message = `must match the pattern ${JSON.stringify(value)}`;
    const check: Check = (instance, context) => {
      if (re.test(instance as string, context)) return true;
      if (context.full) report(context, location, message, undefined, detail);
      return false;
    };
    compiledPatterns.set(check, re);
    return check;
  },
};
