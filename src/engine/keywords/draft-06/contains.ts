import type { KeywordDefinition } from "../../keyword";
import { containsCheck } from "../applicator/contains";

/** `contains` before 2019-09: at least one item matches (minContains/maxContains did not exist). */
export const containsDraft06: KeywordDefinition = {
  keyword: "contains",
  instance: "array",
  drafts: [6, 7],
  compile: (_value, schema, compiler) => containsCheck(schema, compiler, false),
};
