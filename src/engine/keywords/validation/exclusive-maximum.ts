import type { KeywordDefinition } from "../../keyword";
import { numberLimitCheck } from "./number-limit";

/** `exclusiveMaximum` (the numeric form; draft-04's is in keywords/draft-04/). */
export const exclusiveMaximum: KeywordDefinition = {
  keyword: "exclusiveMaximum",
  instance: "number",
  drafts: [6, 7, 2019, 2020],
  compile: (value, _schema, compiler) =>
    numberLimitCheck(compiler, "exclusiveMaximum", (x, m) => x < m, "<", value),
};
