import { ifKeyword } from "../keywords/applicator/if";
import { not } from "../keywords/applicator/not";
import { contentEncoding } from "../keywords/content/content-encoding";
import type { DialectKeywords } from "./dialect";
import { DRAFT_06 } from "./draft-06";

/** Draft-07: if/then/else, and content assertion (base64, JSON). */
export const DRAFT_07: DialectKeywords = {
  draft: 7,
  vocabularies: {
    ...DRAFT_06.vocabularies,
    // Draft 06's applicators, with if/then/else after `not`.
    applicator: DRAFT_06.vocabularies.applicator.flatMap((keyword) =>
      keyword === not ? [not, ifKeyword] : [keyword],
    ),
    content: [contentEncoding],
  },
};
