import { report, spendScan } from "../../context";
import { FORMAT_CHECKS } from "../../formats";
import type { KeywordDefinition } from "../../keyword";

/**
 * `format`: an annotation (collected for enrichment's normalisation) that asserts only when the
 * compile option or the format-assertion vocabulary asks; unknown formats never fail.
 */
export const format: KeywordDefinition = {
  keyword: "format",
  instance: "string",
  drafts: [4, 6, 7, 2019, 2020],
  compile(value, _schema, compiler) {
    if (typeof value !== "string") return null;
    const test = FORMAT_CHECKS[value];
    if (!compiler.assertsFormat || !test) return null;
    const location = compiler.location("format");
    const detail = { params: { format: value } };
    const message = `must be a valid ${value}`;
    return (instance, context) => {
      spendScan(context, (instance as string).length);
      if (test(instance as string)) return true;
      if (context.full) report(context, location, message, undefined, detail);
      return false;
    };
  },
  annotate(value) {
    if (typeof value !== "string") return null;
    return (instance, context) => {
      if (typeof instance === "string")
        context.annotations.push({ instancePath: [...context.instancePath], keyword: "format", value });
      return true;
    };
  },
};
