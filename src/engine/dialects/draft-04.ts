import { allOf } from "../keywords/applicator/all-of";
import { anyOf } from "../keywords/applicator/any-of";
import { not } from "../keywords/applicator/not";
import { oneOf } from "../keywords/applicator/one-of";
import { properties } from "../keywords/applicator/properties";
import { ref } from "../keywords/core/ref";
import { dependenciesRequired, dependenciesSchemas } from "../keywords/draft-04/dependencies";
import { itemsDraft04 } from "../keywords/draft-04/items";
import { maximumDraft04 } from "../keywords/draft-04/maximum";
import { minimumDraft04 } from "../keywords/draft-04/minimum";
import { format } from "../keywords/format-annotation/format";
import { enumKeyword } from "../keywords/validation/enum";
import { maxItems } from "../keywords/validation/max-items";
import { maxLength } from "../keywords/validation/max-length";
import { maxProperties } from "../keywords/validation/max-properties";
import { minItems } from "../keywords/validation/min-items";
import { minLength } from "../keywords/validation/min-length";
import { minProperties } from "../keywords/validation/min-properties";
import { multipleOf } from "../keywords/validation/multiple-of";
import { pattern } from "../keywords/validation/pattern";
import { required } from "../keywords/validation/required";
import { type } from "../keywords/validation/type";
import { uniqueItems } from "../keywords/validation/unique-items";
import type { DialectKeywords } from "./dialect";
import { META_DATA } from "./meta-data";

/** Draft-04: boolean exclusiveMaximum/exclusiveMinimum, no const, contains or propertyNames. */
export const DRAFT_04: DialectKeywords = {
  draft: 4,
  vocabularies: {
    core: [ref],
    validation: [
      type,
      enumKeyword,
      maximumDraft04,
      minimumDraft04,
      multipleOf,
      maxLength,
      minLength,
      pattern,
      maxItems,
      minItems,
      uniqueItems,
      maxProperties,
      minProperties,
      required,
      dependenciesRequired,
    ],
    applicator: [allOf, anyOf, oneOf, not, dependenciesSchemas, properties, itemsDraft04],
    unevaluated: [],
    "format-annotation": [format],
    content: [],
    "meta-data": META_DATA,
  },
};
