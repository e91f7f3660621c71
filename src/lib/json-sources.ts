/**
 * What parseJsonInSlices (json-slices.ts) knows of the containers it assembled: the text each was
 * parsed from and an object's keys, so that neither is made again (writing a 3.7 MB schema again,
 * or enumerating an object of 90,000 members, is a long stretch of the isolate's thread).
 */

/**
 * The containers parseJsonInSlices assembled (over json-slices' SLICE_CHARS of text), where their text is and,
 * for an object, its keys in Object.keys order when they were recorded.
 */
const sources = new WeakMap<object, { text: string; start: number; end: number; keys?: string[] }>();

/** Called by parseJsonInSlices for each container it assembled. */
export function recordSource(
  value: object,
  source: { text: string; start: number; end: number; keys?: string[] },
) {
  sources.set(value, source);
}

/**
 * The keys of an object parseJsonInSlices assembled, as Object.keys would list them, without
 * enumerating it: Object.keys (or for-in) of an object of 90,000 members is one native stretch of
 * 20-100 ms here. Undefined for anything else, and for an object with a key that starts with a
 * digit (Object.keys lists array-index keys first, not in text order). For values not changed
 * since they were parsed (schemas, a document before enrichment).
 */
export function memberKeysOf(value: unknown): readonly string[] | undefined {
  return value !== null && typeof value === "object" ? sources.get(value)?.keys : undefined;
}

/** Members of an object past which copiedObjectText does not look (it would be a long walk). */
const COPY_MEMBERS_LOOKED_AT = 64;

/**
 * The text a container was parsed from, when parseJsonInSlices assembled it (over SLICE_CHARS of
 * text): a JSON text of that value as it was sent (its whitespace and escapes included), without
 * writing it again. For a small object holding an assembled container (a copy of one: zod's
 * `z.record` copies the body's `schema` object, not its members), its members' texts joined.
 * Undefined for anything else.
 */
export function sourceTextOf(value: unknown): string | undefined {
  if (value === null || typeof value !== "object") return undefined;
  const source = sources.get(value);
  if (source) return source.text.slice(source.start, source.end);
  return Array.isArray(value) ? undefined : copiedObjectText(value as Record<string, unknown>);
}

/**
 * Whether `value` is a small object (up to COPY_MEMBERS_LOOKED_AT members) that parseJsonInSlices
 * did not assemble but that holds a container it did: a copy of one, as zod's `z.record` makes of
 * the body's `schema` object.
 */
export function holdsAssembled(value: unknown): boolean {
  if (value === null || typeof value !== "object" || Array.isArray(value) || sources.has(value)) return false;
  let members = 0;
  let holds = false;
  for (const key in value) {
    if (++members > COPY_MEMBERS_LOOKED_AT) return false;
    const member = (value as Record<string, unknown>)[key];
    if (member !== null && typeof member === "object" && sources.has(member)) holds = true;
  }
  return holds;
}

function copiedObjectText(object: Record<string, unknown>): string | undefined {
  if (!holdsAssembled(object)) return undefined;
  const parts: string[] = [];
  // Object.entries, not indexing: an own "__proto__" member is read as itself.
  for (const [key, member] of Object.entries(object)) {
    if (member === undefined) continue;
    const source = member !== null && typeof member === "object" ? sources.get(member) : undefined;
    const text = source ? source.text.slice(source.start, source.end) : JSON.stringify(member);
    parts.push(`${JSON.stringify(key)}:${text}`);
  }
  return `{${parts.join(",")}}`;
}

/** Whether parseJsonInSlices assembled `value` (a container of over SLICE_CHARS of text). */
export function isAssembled(value: unknown): boolean {
  return value !== null && typeof value === "object" && sources.has(value);
}
