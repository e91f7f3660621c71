import type { KeywordDefinition } from "../../keyword";
import { referenceCheck } from "./reference";

/** `$ref`: validates against the referenced schema (before 2019-09 its siblings are ignored, see dialects/). */
export const ref: KeywordDefinition = {
  keyword: "$ref",
  instance: "any",
  drafts: [4, 6, 7, 2019, 2020],
  compile: (value, _schema, compiler) =>
    typeof value === "string" ? referenceCheck(compiler, value, compiler.location("$ref"), "$ref") : null,
};
