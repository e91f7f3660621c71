import { report, spendScan } from "../../context";
import { codePointLength } from "../../json";
import type { KeywordDefinition } from "../../keyword";

/** `maxLength`, in code points; the UTF-16 length answers first when it is already short enough. */
export const maxLength: KeywordDefinition = {
  keyword: "maxLength",
  instance: "string",
  drafts: [4, 6, 7, 2019, 2020],
  compile(value, _schema, compiler) {
    if (typeof value !== "number") return null;
    const max = value;
    const detail = { params: { limit: max } };
    const location = compiler.location("maxLength");
    return (instance, context) => {
      const s = instance as string;
      if (s.length <= max) return true;
      spendScan(context, s.length);
      if (codePointLength(s) <= max) return true;
      if (context.full) report(context, location, `must have at most ${max} characters`, undefined, detail);
      return false;
    };
  },
};
