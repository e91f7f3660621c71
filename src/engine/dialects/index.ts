import type { Draft } from "../registry";
import type { DialectKeywords } from "./dialect";
import { DRAFT_04 } from "./draft-04";
import { DRAFT_06 } from "./draft-06";
import { DRAFT_07 } from "./draft-07";
import { DRAFT_2019_09 } from "./draft-2019-09";
import { DRAFT_2020_12 } from "./draft-2020-12";

export { ANNOTATION_ORDER, type DialectKeywords, VALIDATION_ORDER, type VocabularyName } from "./dialect";

/** The keyword table of every supported draft. */
export const DIALECT_KEYWORDS: Readonly<Record<Draft, DialectKeywords>> = {
  4: DRAFT_04,
  6: DRAFT_06,
  7: DRAFT_07,
  2019: DRAFT_2019_09,
  2020: DRAFT_2020_12,
};
