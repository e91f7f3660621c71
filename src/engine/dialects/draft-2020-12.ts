import { items } from "../keywords/applicator/items";
import { dynamicRef } from "../keywords/core/dynamic-ref";
import { ref } from "../keywords/core/ref";
import { itemsDraft04 } from "../keywords/draft-04/items";
import type { DialectKeywords } from "./dialect";
import { DRAFT_2019_09 } from "./draft-2019-09";

/** Draft 2020-12: $dynamicRef, prefixItems with items for the rest. */
export const DRAFT_2020_12: DialectKeywords = {
  draft: 2020,
  vocabularies: {
    ...DRAFT_2019_09.vocabularies,
    core: [ref, dynamicRef],
    // The same applicators in the same order, but `items` with `prefixItems` instead of the array form.
    applicator: DRAFT_2019_09.vocabularies.applicator.map((keyword) =>
      keyword === itemsDraft04 ? items : keyword,
    ),
  },
};
