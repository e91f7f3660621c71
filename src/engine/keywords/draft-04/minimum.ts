import type { KeywordDefinition } from "../../keyword";
import { numberLimitCheck } from "../validation/number-limit";

/**
 * Draft-04 `minimum`, made exclusive by the boolean sibling `exclusiveMinimum: true` (draft-06 turned
 * `exclusiveMinimum` into a number of its own). Errors are reported at `minimum`.
 */
export const minimumDraft04: KeywordDefinition = {
  keyword: "minimum",
  alsoFor: ["exclusiveMinimum"],
  instance: "number",
  drafts: [4],
  compile: (value, schema, compiler) =>
    schema.exclusiveMinimum === true
      ? numberLimitCheck(compiler, "minimum", (x, m) => x > m, ">", value)
      : numberLimitCheck(compiler, "minimum", (x, m) => x >= m, ">=", value),
};
