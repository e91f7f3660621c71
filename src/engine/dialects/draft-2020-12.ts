import { allOf } from "../keywords/applicator/all-of";
import { anyOf } from "../keywords/applicator/any-of";
import { contains } from "../keywords/applicator/contains";
import { dependentSchemas } from "../keywords/applicator/dependent-schemas";
import { ifKeyword } from "../keywords/applicator/if";
import { items } from "../keywords/applicator/items";
import { not } from "../keywords/applicator/not";
import { oneOf } from "../keywords/applicator/one-of";
import { properties } from "../keywords/applicator/properties";
import { propertyNames } from "../keywords/applicator/property-names";
import { dynamicRef } from "../keywords/core/dynamic-ref";
import { ref } from "../keywords/core/ref";
import { dependenciesRequired, dependenciesSchemas } from "../keywords/draft-04/dependencies";
import { format } from "../keywords/format-annotation/format";
import { unevaluatedItems } from "../keywords/unevaluated/unevaluated-items";
import { unevaluatedProperties } from "../keywords/unevaluated/unevaluated-properties";
import { constKeyword } from "../keywords/validation/const";
import { dependentRequired } from "../keywords/validation/dependent-required";
import { enumKeyword } from "../keywords/validation/enum";
import { exclusiveMaximum } from "../keywords/validation/exclusive-maximum";
import { exclusiveMinimum } from "../keywords/validation/exclusive-minimum";
import { maxItems } from "../keywords/validation/max-items";
import { maxLength } from "../keywords/validation/max-length";
import { maxProperties } from "../keywords/validation/max-properties";
import { maximum } from "../keywords/validation/maximum";
import { minItems } from "../keywords/validation/min-items";
import { minLength } from "../keywords/validation/min-length";
import { minProperties } from "../keywords/validation/min-properties";
import { minimum } from "../keywords/validation/minimum";
import { multipleOf } from "../keywords/validation/multiple-of";
import { pattern } from "../keywords/validation/pattern";
import { required } from "../keywords/validation/required";
import { type } from "../keywords/validation/type";
import { uniqueItems } from "../keywords/validation/unique-items";
import type { DialectKeywords } from "./dialect";
import { META_DATA } from "./meta-data";

/** Draft 2020-12: $dynamicRef, prefixItems with items for the rest. */
export const DRAFT_2020_12: DialectKeywords = {
  draft: 2020,
  vocabularies: {
    core: [ref, dynamicRef],
    validation: [
      type,
      enumKeyword,
      constKeyword,
      maximum,
      minimum,
      exclusiveMaximum,
      exclusiveMinimum,
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
      dependentRequired,
      dependenciesRequired,
    ],
    applicator: [
      allOf,
      anyOf,
      oneOf,
      not,
      ifKeyword,
      dependentSchemas,
      dependenciesSchemas,
      properties,
      propertyNames,
      items,
      contains,
    ],
    unevaluated: [unevaluatedProperties, unevaluatedItems],
    "format-annotation": [format],
    content: [],
    "meta-data": META_DATA,
  },
};
