import type { KeywordDefinition } from "../../keyword";
import { numberLimitCheck } from "./number-limit";

/** `exclusiveMinimum` (the numeric form; draft-04's is in keywords/draft-04/). */
export const exclusiveMinimum: KeywordDefinition = {
  keyword: "exclusiveMinimum",
  instance: "number",
  drafts: [6, 7, 2019, 2020],
  compile: (value, _schema, compiler) =>
    numberLimitCheck(compiler, "exclusiveMinimum", (x, m) => x > m, ">", value),
};
