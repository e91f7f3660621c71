import { holdsAssembled, isAssembled, memberKeysOf } from "./json-sources";
import { yieldThread } from "./yield-thread";
/** Where a JSON text stopped being valid: 1-based line and column, and the character offset. */
export interface JsonSyntaxLocation {
  line: number;
  column: number;
  offset: number;
  message: string;
}

export type JsonTextResult = { ok: true; value: unknown } | { ok: false; error: JsonSyntaxLocation };

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const WHITESPACE = /[ \t\n\r]*/y;

/** Offset just past the string starting at `start`, or the offset of its first invalid character. */
function scanString(text: string, start: number): { end: number } | { error: number } {
  for (let i = start + 1; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x22) return { end: i + 1 };
    if (code < 0x20) return { error: i };
    if (code === 0x5c) {
      const next = text[i + 1];
      if (next === "u") {
        if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) return { error: i };
        i += 5;
      } else if (next && '"\\/bfnrt'.includes(next)) i++;
      else return { error: i };
    }
  }
  return { error: text.length };
}

/**
 * Offset of the first syntax error in `text` (JSON.parse only sometimes says, depending on the
 * runtime). Iterative, so deeply nested input cannot overflow the stack.
 */
export function syntaxErrorOffset(text: string): number {
  const containers: Array<"object" | "array"> = [];
  let pos = 0;
  let expecting: "value" | "key" | "after" = "value";
  const skipWhitespace = () => {
    WHITESPACE.lastIndex = pos;
    WHITESPACE.test(text);
    pos = WHITESPACE.lastIndex;
  };
  for (;;) {
    skipWhitespace();
    const char = text[pos];
    if (expecting === "after") {
      const top = containers.at(-1);
      if (!top) return pos < text.length ? pos : -1;
      if (char === ",") {
        pos++;
        expecting = top === "object" ? "key" : "value";
      } else if ((top === "object" && char === "}") || (top === "array" && char === "]")) {
        pos++;
        containers.pop();
      } else return pos;
      continue;
    }
    if (expecting === "key") {
      if (char !== '"') return pos;
      const scanned = scanString(text, pos);
      if ("error" in scanned) return scanned.error;
      pos = scanned.end;
      skipWhitespace();
      if (text[pos] !== ":") return pos;
      pos++;
      expecting = "value";
      continue;
    }
    if (char === "{" || char === "[") {
      pos++;
      skipWhitespace();
      if (text[pos] === (char === "{" ? "}" : "]")) {
        pos++;
        expecting = "after";
      } else {
        containers.push(char === "{" ? "object" : "array");
        expecting = char === "{" ? "key" : "value";
      }
      continue;
    }
    if (char === '"') {
      const scanned = scanString(text, pos);
      if ("error" in scanned) return scanned.error;
      pos = scanned.end;
    } else if (text.startsWith("true", pos) || text.startsWith("null", pos)) pos += 4;
    else if (text.startsWith("false", pos)) pos += 5;
    else {
      NUMBER.lastIndex = pos;
      if (!NUMBER.test(text)) return pos;
      pos = NUMBER.lastIndex;
    }
    expecting = "after";
  }
}

/** Parses JSON text, locating a syntax error by line and column. */
export function parseJsonText(text: string): JsonTextResult {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, error: syntaxErrorLocation(text) };
  }
}

/** Line, column and message of the syntax error at `offset` (by default, the first one). */
export function syntaxErrorLocation(text: string, found = syntaxErrorOffset(text)): JsonSyntaxLocation {
  const offset = found < 0 ? text.length : found;
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  const column = offset - before.lastIndexOf("\n");
  const message =
    offset >= text.length
      ? "unexpected end of JSON text"
      : `unexpected character ${JSON.stringify(text[offset])}`;
  return { line, column, offset, message };
}

/**
 * Nesting depth of a JSON value, counted without recursion (a hostile document cannot overflow
 * the stack here), stopping as soon as `limit` is exceeded.
 */
export function exceedsDepth(value: unknown, limit: number): boolean {
  return depthWalk(value, limit, isAssembled(value))(Number.POSITIVE_INFINITY) as boolean;
}

/** Containers visited and children looked at between two pauses of exceedsDepthSharing: a few ms here. */
const DEPTH_WALK_SLICE = 10_000;

/** exceedsDepth for values that may be large (a multi-MB schema): the thread is shared. */
export async function exceedsDepthSharing(value: unknown, limit: number): Promise<boolean> {
  // A large schema reaches here as zod's copy of the body's `schema` object: a small object not
  // assembled itself, holding the assembled members (one of 90,000 members took 87 ms in one
  // Object.values when the walk went by the copy). Either way, its containers are stepped through.
  const walk = depthWalk(value, limit, isAssembled(value) || holdsAssembled(value));
  for (;;) {
    const exceeds = walk(DEPTH_WALK_SLICE);
    if (exceeds !== undefined) return exceeds;
    await yieldThread();
  }
}

/**
 * The walk of exceedsDepth, resumable: each call does up to `visits` more work (a container visited,
 * a child looked at) and answers undefined when it is not done. In a value parsed in slices (a large
 * body's), a container's children are looked at by index over its keys, so a container of 90,000
 * members is walked across calls (Object.values of it would be one native stretch of 40-90 ms
 * here), and an object's keys are the recorded ones, so it is not enumerated at all (Object.keys of
 * it is 20-100 ms). Any other value (every small body's: no container of it is that large) has each
 * container's children taken in one Object.values, half the cost of the stepping on a request body.
 */
function depthWalk(value: unknown, limit: number, stepped: boolean) {
  // Two parallel stacks instead of one object per container: this runs on every request body.
  const containers: unknown[] = [value];
  const depths: number[] = [0];
  // `stepped`: only a value parsed in slices (or a small copy holding such values) has large
  // containers and recorded keys; a container inside any other has a shorter text, so it was not
  // parsed in slices either.
  // The container whose children are being looked at (none: null), its keys (an array: none),
  // and the next child to look at: variables, not an object per container.
  let open: unknown[] | Record<string, unknown> | null = null;
  let openKeys: readonly string[] | null = null;
  let openDepth = 0;
  let next = 0;
  return (visits: number): boolean | undefined => {
    let visited = 0;
    for (;;) {
      if (open !== null) {
        const count = openKeys === null ? (open as unknown[]).length : openKeys.length;
        for (; next < count && visited < visits; next++, visited++) {
          // Indexing reads an own "__proto__" key (JSON.parse makes one) as the property.
          const child =
            openKeys === null
              ? (open as unknown[])[next]
              : (open as Record<string, unknown>)[openKeys[next] as string];
          if (child !== null && typeof child === "object") {
            containers.push(child);
            depths.push(openDepth);
          }
        }
        if (next < count) return undefined;
        open = null;
      }
      if (containers.length === 0) return false;
      const container = containers.pop();
      const depth = (depths.pop() as number) + 1;
      if (container === null || typeof container !== "object") continue;
      if (depth > limit) return true;
      if (visited >= visits) {
        containers.push(container);
        depths.push(depth - 1);
        return undefined;
      }
      visited++;
      if (!stepped) {
        // Object.values reads an own "__proto__" key (JSON.parse makes one) as the property.
        const children = Array.isArray(container) ? container : Object.values(container);
        visited += children.length;
        for (const child of children) {
          if (child !== null && typeof child === "object") {
            containers.push(child);
            depths.push(depth);
          }
        }
        continue;
      }
      open = container as unknown[] | Record<string, unknown>;
      openKeys = Array.isArray(container) ? null : (memberKeysOf(container) ?? Object.keys(container));
      openDepth = depth;
      next = 0;
    }
  };
}

/** A 1-based line and column in a JSON text. */
export interface TextPosition {
  line: number;
  column: number;
}

/**
 * Where the values at `pointers` start in `text` (valid JSON), by pointer. A pointer to nothing (a
 * missing property) gets the position of its nearest existing parent. One scan of the text, only
 * when some error needs it; pointers are built only for the containers on the way to a wanted one.
 */
export function locatePointers(text: string, pointers: Iterable<string>): Map<string, TextPosition> {
  const wanted = new Set<string>();
  for (const pointer of pointers) {
    let p = pointer;
    for (;;) {
      wanted.add(p);
      if (p === "") break;
      p = p.slice(0, p.lastIndexOf("/"));
    }
  }
  const offsets = valueOffsets(text, wanted);
  const lineStarts = [0];
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) lineStarts.push(i + 1);
  const position = (offset: number): TextPosition => {
    let low = 0;
    let high = lineStarts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if ((lineStarts[mid] as number) <= offset) low = mid;
      else high = mid - 1;
    }
    return { line: low + 1, column: offset - (lineStarts[low] as number) + 1 };
  };
  const out = new Map<string, TextPosition>();
  for (const pointer of pointers) {
    let p = pointer;
    while (!offsets.has(p) && p !== "") p = p.slice(0, p.lastIndexOf("/"));
    const offset = offsets.get(p);
    if (offset !== undefined) out.set(pointer, position(offset));
  }
  return out;
}

function escapeToken(token: string): string {
  return token.includes("~") || token.includes("/") ? token.replace(/~/g, "~0").replace(/\//g, "~1") : token;
}

/** Offset just past the string starting at `start` of a valid JSON text. */
function stringEnd(text: string, start: number): number {
  let quote = text.indexOf('"', start + 1);
  for (;;) {
    let slashes = 0;
    while (text.charCodeAt(quote - 1 - slashes) === 0x5c) slashes++;
    if (slashes % 2 === 0) return quote + 1;
    quote = text.indexOf('"', quote + 1);
  }
}

/**
 * Start offsets of the values whose pointers are in `wanted` (and are not inside unwanted ones), in
 * a valid JSON text (it was parsed already), scanning character codes without regular expressions.
 */
function valueOffsets(text: string, wanted: ReadonlySet<string>): Map<string, number> {
  const found = new Map<string, number>();
  // Per open container: its pointer (null when nothing below it is wanted), kind and next index.
  const pointers: Array<string | null> = [];
  const arrays: boolean[] = [];
  const indexes: number[] = [];
  let pos = 0;
  let key: string | null = null;
  const n = text.length;
  while (pos < n) {
    const code = text.charCodeAt(pos);
    // whitespace, "," and ":"
    if (code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09 || code === 0x2c || code === 0x3a) {
      pos++;
      continue;
    }
    const depth = pointers.length;
    if (code === 0x7d || code === 0x5d) {
      pointers.pop();
      arrays.pop();
      indexes.pop();
      pos++;
      if (depth > 1 && arrays[depth - 2]) indexes[depth - 2] = (indexes[depth - 2] as number) + 1;
      continue;
    }
    const inArray = depth > 0 && arrays[depth - 1] === true;
    if (depth > 0 && !inArray && key === null) {
      // An object key.
      const end = stringEnd(text, pos);
      const raw = text.slice(pos + 1, end - 1);
      key = raw.includes("\\") ? (JSON.parse(text.slice(pos, end)) as string) : raw;
      pos = end;
      continue;
    }
    let pointer: string | null = "";
    if (depth > 0) {
      const parent = pointers[depth - 1] as string | null;
      if (parent === null) pointer = null;
      else {
        const token = inArray ? String(indexes[depth - 1]) : escapeToken(key as string);
        pointer = `${parent}/${token}`;
        if (!wanted.has(pointer)) pointer = null;
      }
    }
    if (pointer !== null) found.set(pointer, pos);
    key = null;
    if (code === 0x7b || code === 0x5b) {
      pointers.push(pointer);
      arrays.push(code === 0x5b);
      indexes.push(0);
      pos++;
      continue;
    }
    if (code === 0x22) pos = stringEnd(text, pos);
    else {
      // a number or a literal: up to the next delimiter
      pos++;
      while (pos < n) {
        const c = text.charCodeAt(pos);
        if (c === 0x2c || c === 0x7d || c === 0x5d || c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09)
          break;
        pos++;
      }
    }
    if (inArray) indexes[depth - 1] = (indexes[depth - 1] as number) + 1;
  }
  return found;
}

/** Whether `text` takes more than `limit` bytes as UTF-8; encodes only when its length cannot decide. */
export function exceedsUtf8Bytes(text: string, limit: number): boolean {
  if (text.length > limit) return true;
  if (text.length * 3 <= limit) return false;
  return new TextEncoder().encode(text).byteLength > limit;
}
