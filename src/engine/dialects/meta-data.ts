import type { KeywordDefinition } from "../keyword";
import { defaultKeyword } from "../keywords/meta-data/default";
import { deprecated } from "../keywords/meta-data/deprecated";
import { description } from "../keywords/meta-data/description";
import { examples } from "../keywords/meta-data/examples";
import { readOnly } from "../keywords/meta-data/read-only";
import { title } from "../keywords/meta-data/title";
import { writeOnly } from "../keywords/meta-data/write-only";

/** The meta-data vocabulary, which every dialect collects alike. */
export const META_DATA: readonly KeywordDefinition[] = [
  title,
  description,
  defaultKeyword,
  deprecated,
  readOnly,
  writeOnly,
  examples,
];
