import type { KeywordDefinition } from "../../keyword";
import { dependentRequiredChecks } from "./required";

/** `dependentRequired`: properties required when another one is present. */
export const dependentRequired: KeywordDefinition = {
  keyword: "dependentRequired",
  instance: "object",
  drafts: [2019, 2020],
  compile: (value, _schema, compiler) =>
    dependentRequiredChecks(value, compiler.location("dependentRequired")),
};
