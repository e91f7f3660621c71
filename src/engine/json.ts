/** A JSON object as produced by JSON.parse. */
export type JsonObject = Record<string, unknown>;

/** True for a non-null, non-array object. */
export function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** JSON equality: numbers by value (1 == 1.0), objects regardless of key order. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ao = a as JsonObject;
  const bo = b as JsonObject;
  const ak = Object.keys(ao);
  if (ak.length !== Object.keys(bo).length) return false;
  for (const k of ak) {
    if (!Object.hasOwn(bo, k) || !jsonEqual(ao[k], bo[k])) return false;
  }
  return true;
}

/**
 * Canonical JSON text: object keys sorted by code unit, no whitespace, numbers as JSON.stringify
 * prints them (so 1 and 1.0 agree). Two JSON-equal values give the same string; use it as a cache key.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") {
    const s = JSON.stringify(value);
    return s === undefined ? "null" : s;
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const obj = value as JsonObject;
  const keys = Object.keys(obj).sort();
  // Joined rather than appended: `+=` builds a rope of one node per piece until the whole text is
  // flattened (about 10x the text at its peak, 39 MB for a 3.7 MB schema); join makes a flat string.
  const members = new Array<string>(keys.length);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i] as string;
    members[i] = `${JSON.stringify(k)}:${canonicalJson(obj[k])}`;
  }
  return `{${members.join(",")}}`;
}

/** Nodes of a JSON value (itself, every member key and value, every item): the most a structural
 * comparison with it can visit, the measure its cost is spent by. */
export function jsonNodeCount(value: unknown): number {
  if (typeof value !== "object" || value === null) return 1;
  let n = 1;
  if (Array.isArray(value)) {
    for (const item of value) n += jsonNodeCount(item);
  } else {
    for (const key in value)
      if (Object.hasOwn(value, key)) n += 1 + jsonNodeCount((value as JsonObject)[key]);
  }
  return n;
}

/** Length of a string in Unicode code points (a surrogate pair counts once). */
export function codePointLength(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

/** The JSON type name of a value ("integer" is reported as "number"). */
export function jsonTypeOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  return typeof v;
}

const ARRAY_INDEX = /^(0|[1-9][0-9]*)$/;

/** Resolves a JSON Pointer (already percent-decoded) within a value. */
export function walkPointer(root: unknown, pointer: string): { value: unknown; found: boolean } {
  if (pointer === "") return { value: root, found: true };
  if (!pointer.startsWith("/")) return { value: undefined, found: false };
  let cur: unknown = root;
  for (const raw of pointer.slice(1).split("/")) {
    // Most tokens have no escape: the two replacements are skipped for them.
    const tok = raw.includes("~") ? raw.replace(/~1/g, "/").replace(/~0/g, "~") : raw;
    if (Array.isArray(cur)) {
      if (!ARRAY_INDEX.test(tok)) return { value: undefined, found: false };
      cur = cur[Number(tok)];
    } else if (isObject(cur) && Object.hasOwn(cur, tok)) {
      cur = cur[tok];
    } else return { value: undefined, found: false };
    if (cur === undefined) return { value: undefined, found: false };
  }
  return { value: cur, found: true };
}
