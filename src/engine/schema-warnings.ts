import { LATER_KEYWORDS } from "./dialects/later-keywords";
import { RESOURCE_KEYWORDS } from "./dialects/resource-keywords";
import { FORMATS } from "./formats";
import { isObject, type JsonObject } from "./json";
import {
  EXTRA_FORMATS,
  HARMLESS_REF_SIBLINGS,
  isVendorKeyword,
  KEYWORD_DRAFTS,
  KEYWORD_INSTANCE,
  keywordsOf,
  LATER_ANNOTATIONS,
} from "./known-keywords";
import type { Draft, SchemaDocument } from "./registry";
import { closest } from "./suggest";
import { escapePointerToken } from "./uri";

/** What a schema warning is about. */
export type SchemaWarningCode =
  | "unknown_keyword"
  | "keyword_not_in_draft"
  | "unknown_format"
  | "unknown_type"
  | "keyword_without_effect"
  | "ref_sibling_ignored";

/** Something in a schema that is valid but almost certainly not what its author meant. */
export interface SchemaWarning {
  code: SchemaWarningCode;
  /** JSON Pointer to the member in the schema. */
  schemaLocation: string;
  keyword: string;
  message: string;
  /** The likely intended name ("required" for "requried"). */
  suggestion?: string;
}

/** Most warnings kept per schema, and most characters of their text; more set `truncated`. */
export const MAX_WARNINGS = 100;
const MAX_WARNING_CHARS = 32 * 1024;

/** A name for a message, cut to 60 characters (the exact name is in `keyword` and `schemaLocation`). */
function quoted(name: string): string {
  return JSON.stringify(name.length > 60 ? `${name.slice(0, 57)}...` : name);
}

const DRAFT_NAMES: Record<Draft, string> = {
  4: "draft-04",
  6: "draft-06",
  7: "draft-07",
  2019: "draft 2019-09",
  2020: "draft 2020-12",
};

const TYPE_NAMES = ["null", "boolean", "object", "array", "number", "string", "integer"];

const TYPE_KINDS: Record<string, string> = {
  string: "string",
  number: "number",
  integer: "number",
  object: "object",
  array: "array",
};

const KIND_BITS: Record<string, number> = { string: 1, number: 2, object: 4, array: 8 };

const KNOWN_DRAFTS = new Map(Object.entries(KEYWORD_DRAFTS));

/** The later-draft keywords the "compatible" dialect applies in each draft (not warned about there). */
const LATER_NAMES = new Map<Draft, Set<string>>(
  Object.entries(LATER_KEYWORDS).map(([draft, list]) => [
    Number(draft) as Draft,
    new Set(
      list.flatMap(({ definition }) => [
        definition.keyword,
        ...(definition.alsoFor ?? []),
        ...(definition.keyword === "if" ? ["then", "else"] : []),
      ]),
    ),
  ]),
);
const KNOWN_BY_DRAFT = new Map<Draft, string[]>();
function known(draft: Draft): string[] {
  let list = KNOWN_BY_DRAFT.get(draft);
  if (!list) {
    list = keywordsOf(draft);
    KNOWN_BY_DRAFT.set(draft, list);
  }
  return list;
}

/**
 * The warnings of a schema document: computed once, when the schema is compiled (never per
 * validation), over every subschema the registry scanned. Members of vendor annotations (`x-…`,
 * markdownDescription, ...) and containers that local `$ref`s point into are not warned about.
 */
export function schemaWarnings(
  document: SchemaDocument,
  /** The subschema at each pointer of `document.resourceByPointer` (Registry.addDocument's `schemas`). */
  schemas: ReadonlyMap<string, unknown>,
  options: { laterKeywords: boolean } = { laterKeywords: true },
): { warnings: SchemaWarning[]; truncated: boolean } {
  const found: SchemaWarning[] = [];
  const refTargets: string[] = [];
  for (const [pointer, resource] of document.resourceByPointer) {
    const schema = schemas.get(pointer);
    if (!isObject(schema)) continue;
    const draft = resource.dialect.draft;
    const later = options.laterKeywords ? LATER_NAMES.get(draft) : undefined;
    checkSchema(schema, pointer, draft, later, found, refTargets);
  }
  // A non-keyword member that a `$ref` points into is a container of definitions, not a typo.
  const used = found.filter(
    (w) =>
      (w.code !== "unknown_keyword" && w.code !== "keyword_not_in_draft") ||
      !refTargets.some((t) => t === w.schemaLocation || t.startsWith(`${w.schemaLocation}/`)),
  );
  used.sort((a, b) =>
    a.schemaLocation < b.schemaLocation ? -1 : a.schemaLocation > b.schemaLocation ? 1 : 0,
  );
  const kept: SchemaWarning[] = [];
  let chars = 0;
  for (const w of used) {
    chars += w.message.length + 2 * w.schemaLocation.length + 64;
    if (kept.length >= MAX_WARNINGS || chars > MAX_WARNING_CHARS) break;
    kept.push(w);
  }
  return { warnings: kept, truncated: kept.length < used.length };
}

function checkSchema(
  schema: JsonObject,
  pointer: string,
  draft: Draft,
  later: ReadonlySet<string> | undefined,
  found: SchemaWarning[],
  refTargets: string[],
): void {
  const ref = schema.$ref;
  if (typeof ref === "string" && ref.startsWith("#/")) refTargets.push(decodeFragment(ref.slice(1)));
  const refOnly = RESOURCE_KEYWORDS[draft].refOverridesSiblings && typeof ref === "string";
  // Worked out on the first type-specific keyword only.
  let kinds: number | undefined;
  for (const keyword in schema) {
    if (!Object.hasOwn(schema, keyword)) continue;
    const drafts = KNOWN_DRAFTS.get(keyword);
    if (!drafts && isVendorKeyword(keyword)) continue;
    if (!drafts) {
      const suggestion = closest(keyword, known(draft));
      found.push({
        code: "unknown_keyword",
        schemaLocation: `${pointer}/${escapePointerToken(keyword)}`,
        keyword,
        message: `${quoted(keyword)} is not a ${DRAFT_NAMES[draft]} keyword: it is ignored${suggestion ? `; did you mean "${suggestion}"?` : "."}`,
        ...(suggestion && { suggestion }),
      });
      continue;
    }
    if (!drafts.includes(draft) && !later?.has(keyword)) {
      if (LATER_ANNOTATIONS.has(keyword)) continue;
      found.push({
        code: "keyword_not_in_draft",
        schemaLocation: `${pointer}/${escapePointerToken(keyword)}`,
        keyword,
        message: `${quoted(keyword)} is not a ${DRAFT_NAMES[draft]} keyword (it is from ${DRAFT_NAMES[drafts[0] as Draft]}${drafts.length > 1 ? " on" : ""}): it is ignored here; set "$schema" to the draft that has it.`,
      });
      continue;
    }
    if (refOnly && keyword !== "$ref" && !HARMLESS_REF_SIBLINGS.has(keyword)) {
      found.push({
        code: "ref_sibling_ignored",
        schemaLocation: `${pointer}/${escapePointerToken(keyword)}`,
        keyword,
        message: `In ${DRAFT_NAMES[draft]} a "$ref" replaces its whole schema: "${keyword}" beside it is ignored. Move it into an "allOf" with the "$ref", or use draft 2019-09 or later.`,
      });
      continue;
    }
    const applies = KEYWORD_INSTANCE[keyword];
    if (applies === undefined) continue;
    if (kinds === undefined) kinds = typeKinds(schema.type);
    if (kinds >= 0 && (kinds & (KIND_BITS[applies] as number)) === 0) {
      found.push({
        code: "keyword_without_effect",
        schemaLocation: `${pointer}/${escapePointerToken(keyword)}`,
        keyword,
        message: `"${keyword}" applies to ${applies === "array" ? "arrays" : `${applies}s`} only; beside "type": ${JSON.stringify(schema.type)} it has no effect.`,
      });
    }
  }
  // Standard metaschemas refuse an unknown type name (SCHEMA_INVALID); a custom one may not.
  if (typeof schema.type === "string") unknownType(schema.type, pointer, found);
  else if (Array.isArray(schema.type)) for (const name of schema.type) unknownType(name, pointer, found);
  const format = schema.format;
  if (
    !refOnly &&
    typeof format === "string" &&
    !Object.hasOwn(FORMATS, format) &&
    !EXTRA_FORMATS.has(format)
  ) {
    const suggestion = closest(format, Object.keys(FORMATS));
    found.push({
      code: "unknown_format",
      schemaLocation: `${pointer}/format`,
      keyword: "format",
      message: `${quoted(format)} is not a format this API knows: it is never asserted${suggestion ? `; did you mean "${suggestion}"?` : "."}`,
      ...(suggestion && { suggestion }),
    });
  }
}

function unknownType(name: unknown, pointer: string, found: SchemaWarning[]): void {
  if (typeof name !== "string" || TYPE_NAMES.includes(name)) return;
  const suggestion = closest(name, TYPE_NAMES);
  found.push({
    code: "unknown_type",
    schemaLocation: `${pointer}/type`,
    keyword: "type",
    message: `${quoted(name)} is not a JSON type: no value has it${suggestion ? `; did you mean "${suggestion}"?` : "."}`,
    ...(suggestion && { suggestion }),
  });
}

/** The kinds of instance (KIND_BITS) a `type` allows, or -1 when the schema has no (usable) `type`. */
function typeKinds(type: unknown): number {
  if (typeof type === "string") return kindsOf(type);
  if (!Array.isArray(type) || type.length === 0) return -1;
  let kinds = 0;
  for (const name of type) {
    if (typeof name !== "string") return -1;
    const own = kindsOf(name);
    if (own < 0) return -1;
    kinds |= own;
  }
  return kinds;
}

/** A type name's kind as a bit (0 for boolean and null, which no keyword applies to), or -1 for no type. */
function kindsOf(name: string): number {
  const kind = TYPE_KINDS[name];
  if (kind) return KIND_BITS[kind] ?? 0;
  return name === "boolean" || name === "null" ? 0 : -1;
}

function decodeFragment(fragment: string): string {
  try {
    return decodeURIComponent(fragment);
  } catch {
    return fragment;
  }
}
