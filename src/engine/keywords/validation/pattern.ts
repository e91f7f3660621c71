import { report } from "../../context";
import type { KeywordDefinition } from "../../keyword";

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
    return (instance, context) => {
      if (re.test(instance as string, context)) return true;
      if (context.full) report(context, location, message, undefined, detail);
      return false;
    };
  },
};
