import type { KeywordDefinition } from "../keyword";
import type { Draft, Vocabularies } from "../registry";

/** The vocabularies of 2020-12, by the names of its `$vocabulary` URIs. */
export type VocabularyName =
  | "core"
  | "validation"
  | "applicator"
  | "unevaluated"
  | "format-annotation"
  | "content"
  | "meta-data";

/** The keyword implementations of one draft, by vocabulary, each list in evaluation order. */
export interface DialectKeywords {
  readonly draft: Draft;
  readonly vocabularies: Readonly<Record<VocabularyName, readonly KeywordDefinition[]>>;
}

/**
 * The order in which a schema's keywords are compiled: it is the order their checks run and their
 * errors are reported. Core is always on; the others follow the dialect's `$vocabulary`.
 */
export const VALIDATION_ORDER: ReadonlyArray<[VocabularyName, keyof Vocabularies | null]> = [
  ["core", null],
  ["validation", "validation"],
  ["applicator", "applicator"],
  ["unevaluated", "unevaluated"],
  ["format-annotation", "format"],
  ["content", "content"],
];

/** The order in which annotations are collected for enrichment. */
export const ANNOTATION_ORDER: ReadonlyArray<[VocabularyName, keyof Vocabularies]> = [
  ["meta-data", "metaData"],
  ["applicator", "applicator"],
  ["format-annotation", "format"],
];
