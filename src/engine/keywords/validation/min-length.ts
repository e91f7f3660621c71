import { report, spendScan } from "../../context";
import { codePointLength } from "../../json";
import type { KeywordDefinition } from "../../keyword";

/** `minLength`, in code points; a UTF-16 length of twice the minimum needs no counting. */
export const minLength: KeywordDefinition = {
  keyword: "minLength",
  instance: "string",
  drafts: [4, 6, 7, 2019, 2020],
  compile(value, _schema, compiler) {
    if (typeof value !== "number") return null;
    const min = value;
    const detail = { params: { limit: min } };
    const location = compiler.location("minLength");
    return (instance, context) => {
      const s = instance as string;
      if (s.length >= 2 * min) return true;
      if (s.length >= min) {
        spendScan(context, s.length);
        if (codePointLength(s) >= min) return true;
      }
      if (context.full)
        report(
          context,
          location,
          `must have at least ${min} character${min === 1 ? "" : "s"}`,
          undefined,
          detail,
        );
      return false;
    };
  },
};
