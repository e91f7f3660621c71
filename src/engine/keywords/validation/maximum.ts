import type { KeywordDefinition } from "../../keyword";
import { numberLimitCheck } from "./number-limit";

/** `maximum` (the numeric form; draft-04's is in keywords/draft-04/). */
export const maximum: KeywordDefinition = {
  keyword: "maximum",
  instance: "number",
  drafts: [6, 7, 2019, 2020],
  compile: (value, _schema, compiler) => numberLimitCheck(compiler, "maximum", (x, m) => x <= m, "<=", value),
};
