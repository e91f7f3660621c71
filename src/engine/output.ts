import { closest, SUGGESTION_BUDGET, type SuggestionBudget } from "./suggest";
import { unescapePointerToken } from "./uri";

/**
 * One error, as in JSON Schema 2020-12 §12.3 (output units of the basic and detailed formats), with
 * additions that keep that shape: `keyword`, `params`, `value`, `suggestion` (and, from the HTTP
 * layer, `line`/`column`).
 */
export interface OutputUnit {
  valid: false;
  /** Evaluation path through the schema, including `$ref`s followed, as a JSON Pointer. */
  keywordLocation: string;
  /**
   * The keyword's dereferenced location: its schema resource's URI plus a JSON Pointer fragment. A
   * schema without an absolute `$id` has no URI: there it is a reference relative to that schema
   * (`#/$defs/id/type`).
   */
  absoluteKeywordLocation: string;
  /** JSON Pointer to the failing part of the document (for `required`, the missing property). */
  instanceLocation: string;
  /** A readable English message. */
  error: string;
  /** The failing keyword ("false" for a false schema). */
  keyword?: string;
  /** Machine-readable detail, named as ajv does: missingProperty, allowedValues, limit, ... */
  params?: Record<string, unknown>;
  /** The value at instanceLocation (absent when there is none, e.g. a missing property); cut to
   * VALUE_MAX_CHARS of JSON text, as a string, when longer (then `valueTruncated`). */
  value?: unknown;
  valueTruncated?: true;
  /** A likely fix for a near-miss value or property name ("Did you mean \"active\"?"). */
  suggestion?: string;
  /** Nested errors (detailed format only). */
  errors?: OutputUnit[];
}

/** Internal: a unit plus whether it only groups the errors of its subschemas. */
export interface RawUnit extends OutputUnit {
  wrapper?: boolean;
  errors?: RawUnit[];
  /** Values a near-miss instance value or property name may have meant. */
  candidates?: readonly unknown[];
}

/** Most characters of JSON text an error shows of the offending value. */
export const VALUE_MAX_CHARS = 200;

/** Appends the JSON text of `v` to `out`, stopping once it exceeds `max` characters. */
function writeBounded(v: unknown, max: number, out: string): string {
  if (out.length > max) return out;
  if (Array.isArray(v)) {
    let text = `${out}[`;
    for (let i = 0; i < v.length && text.length <= max; i++)
      text = writeBounded(v[i], max, i > 0 ? `${text},` : text);
    return `${text}]`;
  }
  if (typeof v === "object" && v !== null) {
    let text = `${out}{`;
    let first = true;
    for (const key in v) {
      if (text.length > max) break;
      if (!Object.hasOwn(v, key)) continue;
      text = writeBounded(
        (v as Record<string, unknown>)[key],
        max,
        `${text}${first ? "" : ","}${JSON.stringify(key)}:`,
      );
      first = false;
    }
    return `${text}}`;
  }
  return (
    out + (typeof v === "string" && v.length > max ? JSON.stringify(v.slice(0, max + 1)) : JSON.stringify(v))
  );
}

/** The value an error shows: itself when short, else its JSON text cut to VALUE_MAX_CHARS. */
function shownValue(value: unknown): { value: unknown; truncated: boolean } {
  // Most offending values are short primitives: no serialisation needed to know they fit.
  if (typeof value === "number" || typeof value === "boolean" || value === null)
    return { value, truncated: false };
  if (typeof value === "string" && value.length <= VALUE_MAX_CHARS / 2 - 2)
    return { value, truncated: false };
  const text = writeBounded(value, VALUE_MAX_CHARS, "");
  if (text.length <= VALUE_MAX_CHARS) return { value, truncated: false };
  return { value: `${text.slice(0, VALUE_MAX_CHARS - 3)}...`, truncated: true };
}

/** The value at a JSON Pointer in `document`, or undefined (walked without splitting the pointer). */
export function valueAt(document: unknown, pointer: string): unknown {
  let v: unknown = document;
  let start = 1;
  while (start <= pointer.length && pointer !== "") {
    if (typeof v !== "object" || v === null) return undefined;
    let end = pointer.indexOf("/", start);
    if (end < 0) end = pointer.length;
    const token = unescapePointerToken(pointer.slice(start, end));
    if (Array.isArray(v)) v = v[Number(token)];
    else v = Object.hasOwn(v, token) ? (v as Record<string, unknown>)[token] : undefined;
    start = end + 1;
  }
  return v;
}

function parentPointer(pointer: string): string {
  return pointer.slice(0, pointer.lastIndexOf("/"));
}

/** "Did you mean" for a failing unit, from its candidates or (for a missing property) the object's keys. */
function suggestionFor(
  u: RawUnit,
  value: unknown,
  document: unknown,
  budget: SuggestionBudget,
): string | undefined {
  const params = u.params;
  if (u.candidates && typeof value === "string" && (u.keyword === "enum" || u.keyword === "const")) {
    const hit = closest(value, u.candidates, budget);
    return hit === undefined ? undefined : `Did you mean ${JSON.stringify(hit)}?`;
  }
  const extra = params?.additionalProperty ?? params?.unevaluatedProperty;
  if (u.candidates && typeof extra === "string") {
    const hit = closest(extra, u.candidates, budget);
    return hit === undefined ? undefined : `Did you mean ${JSON.stringify(hit)}? The schema declares it.`;
  }
  const missing = params?.missingProperty;
  if (typeof missing === "string") {
    const parent = valueAt(document, parentPointer(u.instanceLocation));
    if (typeof parent !== "object" || parent === null || Array.isArray(parent)) return undefined;
    // The object's keys, no more than the budget can compare (an object may have very many).
    const keys: string[] = [];
    for (const key in parent)
      if (keys.length < budget.comparisons && Object.hasOwn(parent, key)) keys.push(key);
    const hit = closest(missing, keys, budget);
    return hit === undefined
      ? undefined
      : `The document has ${JSON.stringify(hit)}: did you mean ${JSON.stringify(missing)}?`;
  }
  return undefined;
}

function strip(u: RawUnit, document: unknown, budget: SuggestionBudget, children?: OutputUnit[]): OutputUnit {
  const out: OutputUnit = {
    valid: false,
    keywordLocation: u.keywordLocation,
    absoluteKeywordLocation: u.absoluteKeywordLocation,
    instanceLocation: u.instanceLocation,
    error: u.error,
  };
  if (u.keyword !== undefined) out.keyword = u.keyword;
  if (u.params) out.params = u.params;
  // A unit that only groups its subschemas' errors (detailed: properties, items, allOf) shows no value.
  if (u.wrapper) {
    if (children && children.length > 0) out.errors = children;
    return out;
  }
  const value = valueAt(document, u.instanceLocation);
  if (value !== undefined) {
    const shown = shownValue(value);
    out.value = shown.value;
    if (shown.truncated) out.valueTruncated = true;
  }
  const suggestion = suggestionFor(u, value, document, budget);
  if (suggestion) out.suggestion = suggestion;
  if (children && children.length > 0) out.errors = children;
  return out;
}

/** Basic format: a flat list. Units that merely group their subschemas' errors are left out. */
export function toBasic(units: RawUnit[], limit: number, document?: unknown): OutputUnit[] {
  const out: OutputUnit[] = [];
  const budget = { comparisons: SUGGESTION_BUDGET };
  const walk = (list: RawUnit[]): void => {
    for (const u of list) {
      if (out.length >= limit) return;
      if (!u.wrapper) out.push(strip(u, document, budget));
      if (u.errors) walk(u.errors);
    }
  };
  walk(units);
  return out;
}

/** How many units the basic format would list, counting no further than `limit`. */
export function countBasic(units: RawUnit[], limit: number): number {
  let n = 0;
  const walk = (list: RawUnit[]): void => {
    for (const u of list) {
      if (n >= limit) return;
      if (!u.wrapper) n++;
      if (u.errors) walk(u.errors);
    }
  };
  walk(units);
  return n;
}

/** Detailed format: the hierarchy of the evaluation, applicators with a single child collapsed. */
export function toDetailed(units: RawUnit[], document?: unknown): OutputUnit[] {
  const budget = { comparisons: SUGGESTION_BUDGET };
  const conv = (u: RawUnit): OutputUnit => {
    const kids = u.errors ? u.errors.map(conv) : undefined;
    if (u.wrapper && kids && kids.length === 1) return kids[0] as OutputUnit;
    return strip(u, document, budget, kids);
  };
  return units.map(conv);
}

/** Number of leaf errors in a raw tree. */
export function countLeaves(units: RawUnit[]): number {
  let n = 0;
  for (const u of units) n += u.errors && u.errors.length > 0 ? countLeaves(u.errors) : 1;
  return n;
}

/**
 * How far a failing branch of anyOf/oneOf is from matching, for putting the closest first: each
 * error counts, one about the instance's type or a const/enum discriminator counts ten.
 */
export function branchDistance(units: readonly RawUnit[], from: number, to: number): number {
  let score = 0;
  for (let i = from; i < to; i++) {
    const u = units[i] as RawUnit;
    if (u.errors && u.errors.length > 0) score += branchDistance(u.errors, 0, u.errors.length);
    else
      score +=
        u.keyword === "type" || u.keyword === "const" || u.keyword === "enum" || u.keyword === "false"
          ? 10
          : 1;
  }
  return score;
}
