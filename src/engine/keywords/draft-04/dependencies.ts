import type { KeywordDefinition } from "../../keyword";
import { dependentSchemaChecks } from "../applicator/dependent-schemas";
import { dependentRequiredChecks } from "../validation/required";

// `dependencies` mixes two keywords that 2019-09 split into dependentRequired (array values,
// validation vocabulary) and dependentSchemas (schema values, applicator vocabulary). The dialect
// tables list both halves where their successors sit, so errors come in the same order as theirs.
// Later dialects keep honouring `dependencies` too, as this engine always has.

/** `dependencies` with array values: required properties. */
export const dependenciesRequired: KeywordDefinition = {
  keyword: "dependencies",
  instance: "object",
  drafts: [4, 6, 7, 2019, 2020],
  compile: (value, _schema, compiler) => dependentRequiredChecks(value, compiler.location("dependencies")),
};

/** `dependencies` with schema values: a schema the object must match. */
export const dependenciesSchemas: KeywordDefinition = {
  keyword: "dependencies",
  instance: "object",
  drafts: [4, 6, 7, 2019, 2020],
  compile: (value, _schema, compiler) =>
    dependentSchemaChecks(value, "dependencies", compiler, compiler.location("dependencies"), true),
};
