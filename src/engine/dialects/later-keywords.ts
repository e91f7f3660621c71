import type { KeywordDefinition } from "../keyword";
import { ifKeyword } from "../keywords/applicator/if";
import { propertyNames } from "../keywords/applicator/property-names";
import { containsDraft06 } from "../keywords/draft-06/contains";
import { constKeyword } from "../keywords/validation/const";
import type { Draft } from "../registry";
import type { VocabularyName } from "./dialect";

// Schema authors write for the validators they use, and those (ajv with ajv-draft-04,
// @cfworker/json-schema) apply a later draft's keyword in an earlier-draft schema. We do the same,
// by default, for the keywords whose name the schema's own draft leaves free AND whose job it has no
// keyword for: `dependentRequired`/`dependentSchemas` stay out of drafts 4-7 (their `dependencies`
// does that job, and the official suite's cross-draft test expects a draft-07 `dependentRequired` to
// be ignored), `prefixItems` stays out (the array form of `items` does it), `minContains`/
// `maxContains` and `unevaluated*` stay out (ajv's draft-07 class does not apply them either).
// The request option `"dialect": "strict"` turns this off: the letter of the declared draft.

/** A later-draft keyword applied in an earlier draft, and the shape its value must have to apply. */
export interface LaterKeyword {
  readonly vocabulary: VocabularyName;
  readonly definition: KeywordDefinition;
  /** A value of another shape leaves the keyword ignored, as an unknown keyword (never an error). */
  readonly applies: (value: unknown, schema: Readonly<Record<string, unknown>>) => boolean;
}

const isSchema = (value: unknown): boolean =>
  typeof value === "boolean" || (typeof value === "object" && value !== null && !Array.isArray(value));

const CONST: LaterKeyword = { vocabulary: "validation", definition: constKeyword, applies: () => true };
const CONTAINS: LaterKeyword = { vocabulary: "applicator", definition: containsDraft06, applies: isSchema };
const PROPERTY_NAMES: LaterKeyword = {
  vocabulary: "applicator",
  definition: propertyNames,
  applies: isSchema,
};
const IF_THEN_ELSE: LaterKeyword = {
  vocabulary: "applicator",
  definition: ifKeyword,
  applies: (value, schema) =>
    isSchema(value) &&
    (schema.then === undefined || isSchema(schema.then)) &&
    (schema.else === undefined || isSchema(schema.else)),
};

/** The later-draft keywords applied in each draft unless the request asks for `"dialect": "strict"`. */
export const LATER_KEYWORDS: Readonly<Record<Draft, readonly LaterKeyword[]>> = {
  4: [CONST, CONTAINS, PROPERTY_NAMES, IF_THEN_ELSE],
  6: [IF_THEN_ELSE],
  7: [],
  2019: [],
  2020: [],
};
