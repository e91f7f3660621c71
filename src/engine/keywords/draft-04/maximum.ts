import type { KeywordDefinition } from "../../keyword";
import { numberLimitCheck } from "../validation/number-limit";

/**
 * Draft-04 `maximum`, made exclusive by the boolean sibling `exclusiveMaximum: true` (draft-06 turned
 * `exclusiveMaximum` into a number of its own). Errors are reported at `maximum`.
 */
export const maximumDraft04: KeywordDefinition = {
  keyword: "maximum",
  alsoFor: ["exclusiveMaximum"],
  instance: "number",
  drafts: [4],
  compile: (value, schema, compiler) =>
    schema.exclusiveMaximum === true
      ? numberLimitCheck(compiler, "maximum", (x, m) => x < m, "<", value)
      : numberLimitCheck(compiler, "maximum", (x, m) => x <= m, "<=", value),
};
