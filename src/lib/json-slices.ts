/**
 * JSON.parse for large texts that shares the isolate's thread.
 *
 * Native JSON.parse cannot pause: 3.7 MB of small objects takes about 100 ms here, and every other
 * request on the isolate waits that long. `parseJsonInSlices` gives the same value as JSON.parse
 * (key order, the last of duplicate keys, an own `__proto__` key, numbers, strings) but parses a
 * large text in slices: one pass finds the structure, each container or scalar of at most
 * SLICE_CHARS is parsed natively in one piece, larger containers are assembled from their members,
 * and the thread is handed over (yieldThread) after every YIELD_CHARS of work. So no stretch is
 * longer than a few ms; the whole costs two to three times what JSON.parse does, so texts up to
 * PARSE_AT_ONCE_CHARS are simply JSON.parse'd.
 *
 * The pass is linear: each value is recorded once, as a member of its parent, and a container that
 * turns out small drops its members' records when it closes. Nesting is bounded by `maxDepth`
 * (beyond it `JsonTooDeep` is thrown, before any value is built). An invalid text throws a
 * SyntaxError, as JSON.parse does.
 */

import { recordSource } from "./json-sources";
import { type JsonTextResult, parseJsonText, syntaxErrorLocation, syntaxErrorOffset } from "./json-text";
import { yieldThread } from "./yield-thread";

export { isAssembled, memberKeysOf, sourceTextOf } from "./json-sources";

/** Characters parsed natively in one piece: about 2 ms of JSON.parse for the densest shapes here. */
export const SLICE_CHARS = 64 * 1024;

/** Characters of work between two pauses: a few ms here (10-25 ms under a profiler, loaded). */
export const YIELD_CHARS = 128 * 1024;

/**
 * Texts up to this many characters are parsed at once (at most about 15 ms of JSON.parse here):
 * slicing costs two to three times JSON.parse's CPU, so it is kept for the texts that need it.
 */
export const PARSE_AT_ONCE_CHARS = 512 * 1024;

/** The text nests deeper than the limit it was parsed with. */
export class JsonTooDeep extends Error {
  constructor(readonly maxDepth: number) {
    super(`nested deeper than ${maxDepth} levels`);
  }
}

enum Expect {
  Value,
  ValueOrClose,
  Key,
  KeyOrClose,
  Colon,
  CommaOrClose,
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** The text is not JSON: the offset of its first error. */
export class JsonSyntaxError extends SyntaxError {
  constructor(readonly offset: number) {
    super(`Unexpected token in JSON at position ${offset}`);
  }
}

/** JSON.parse of `piece`, whose first character is at `at` in the text: a failure says where. */
function parsePiece(piece: string, at: number): unknown {
  try {
    return JSON.parse(piece);
  } catch {
    const offset = syntaxErrorOffset(piece);
    throw new JsonSyntaxError(Math.max(0, at + (offset < 0 ? piece.length : offset)));
  }
}

function isWhitespace(code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09;
}

/** Offset just past the string starting at `start` (its content is checked when it is parsed). */
function stringEnd(text: string, start: number): number {
  const n = text.length;
  for (let i = start + 1; i < n; i++) {
    const code = text.charCodeAt(i);
    if (code === QUOTE) return i + 1;
    if (code === BACKSLASH) i++;
  }
  throw new JsonSyntaxError(n);
}

/** Offset just past the number or literal starting at `start` (checked when it is parsed). */
function scalarEnd(text: string, start: number): number {
  const n = text.length;
  let i = start;
  while (i < n) {
    const code = text.charCodeAt(i);
    if (isWhitespace(code) || code === 0x2c || code === 0x7d || code === 0x5d) break;
    i++;
  }
  return i;
}

/** Whether Object.keys could list `key` out of insertion order (an array index). */
const mayBeIndex = (key: string) => {
  const code = key.charCodeAt(0);
  return code >= 0x30 && code <= 0x39;
};

const hasOwn = Object.prototype.hasOwnProperty;

function setMember(target: Record<string, unknown>, key: string, value: unknown) {
  // Assignment would set the prototype; JSON.parse makes an own property, and so do we.
  if (key === "__proto__") {
    Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
  } else target[key] = value;
}

export async function parseJsonInSlices(text: string, limits: { maxDepth: number }): Promise<unknown> {
  if (text.length <= PARSE_AT_ONCE_CHARS) return JSON.parse(text);
  const n = text.length;
  let pos = 0;
  while (pos < n && isWhitespace(text.charCodeAt(pos))) pos++;
  const first = text.charCodeAt(pos);
  if (first !== 0x7b && first !== 0x5b) return JSON.parse(text);

  // The open containers' members, four numbers a record: key start and end (-1 in an array), value
  // start and end. A record is either a large container, built already (its value in `built`), or a
  // run of consecutive members of at most SLICE_CHARS, parsed natively in one piece when its
  // container is assembled: so records grow with large containers, not with members.
  const members: number[] = [];
  const built = new Map<number, unknown>();
  // Per open container: where it starts, whether it is an array, where its records begin, its key.
  const starts: number[] = [];
  const arrays: boolean[] = [];
  const membersFrom: number[] = [];
  const keyStarts: number[] = [];
  const keyEnds: number[] = [];
  let keyStart = -1;
  let keyEnd = -1;
  // Characters scanned (pos) and assembled (work): the thread is handed over every YIELD_CHARS.
  let work = 0;
  let nextPause = YIELD_CHARS;
  const pause = () => {
    nextPause = pos + work + YIELD_CHARS;
    return yieldThread();
  };
  let root: unknown;
  let done = false;

  const record = (kStart: number, kEnd: number, vStart: number, vEnd: number) => {
    // Joined to the container's last record when that is a run with room for it.
    const last = members.length - 4;
    if (last >= (membersFrom[membersFrom.length - 1] as number) && !built.has(last)) {
      const runStart =
        (members[last] as number) >= 0 ? (members[last] as number) : (members[last + 2] as number);
      if (vEnd - runStart <= SLICE_CHARS) {
        members[last + 3] = vEnd;
        return;
      }
    }
    members.push(kStart, kEnd, vStart, vEnd);
  };
  /** The container of the records from `from`, each run parsed natively in one piece. */
  const assemble = async (isArray: boolean, from: number): Promise<{ value: unknown; keys?: string[] }> => {
    const out: unknown[] | Record<string, unknown> = isArray ? [] : {};
    // The object's keys in order, first occurrences (JSON.parse keeps a repeated key's first place).
    let keys: string[] | undefined = isArray ? undefined : [];
    const member = (key: string, value: unknown) => {
      if (keys !== undefined && !hasOwn.call(out, key)) {
        if (mayBeIndex(key)) keys = undefined;
        else keys.push(key);
      }
      setMember(out as Record<string, unknown>, key, value);
    };
    for (let i = from; i < members.length; i += 4) {
      const kStart = members[i] as number;
      const vStart = members[i + 2] as number;
      const vEnd = members[i + 3] as number;
      const value = built.get(i);
      if (value !== undefined) {
        built.delete(i);
        if (isArray) (out as unknown[]).push(value);
        else member(parsePiece(text.slice(kStart, members[i + 1]), kStart) as string, value);
      } else if (isArray) {
        // At most SLICE_CHARS / 2 items: within the arguments a call can take.
        Array.prototype.push.apply(out, parsePiece(`[${text.slice(vStart, vEnd)}]`, vStart - 1) as unknown[]);
      } else {
        const run = parsePiece(`{${text.slice(kStart, vEnd)}}`, kStart - 1) as Record<string, unknown>;
        for (const key of Object.keys(run)) member(key, run[key]);
      }
      work += vEnd - vStart;
      if (pos + work >= nextPause) await pause();
    }
    members.length = from;
    return { value: out, keys };
  };
  /** Closes the innermost container at `pos`; a promise only when it is large (assembled here). */
  const close = (): Promise<void> | undefined => {
    const start = starts.pop() as number;
    const isArray = arrays.pop() as boolean;
    const from = membersFrom.pop() as number;
    const kStart = keyStarts.pop() as number;
    const kEnd = keyEnds.pop() as number;
    const end = pos + 1;
    pos = end;
    if (end - start <= SLICE_CHARS) {
      // Small: parsed whole as part of its parent's run (or here, for the root).
      members.length = from;
      if (starts.length === 0) {
        root = parsePiece(text.slice(start, end), start);
        done = true;
      } else record(kStart, kEnd, start, end);
      return undefined;
    }
    return assemble(isArray, from).then(({ value, keys }) => {
      recordSource(value as object, { text, start, end, ...(keys && { keys }) });
      if (starts.length === 0) {
        root = value;
        done = true;
      } else {
        built.set(members.length, value);
        members.push(kStart, kEnd, start, end);
      }
    });
  };

  /**
   * Where the text's first error is, given one at `found`: the records not parsed yet come before
   * it (they are parsed when their container closes), so each is parsed now, in order.
   */
  const firstError = async (found: number): Promise<JsonSyntaxError> => {
    for (let i = 0; i < members.length; i += 4) {
      const kStart = members[i] as number;
      const vStart = members[i + 2] as number;
      if ((kStart >= 0 ? kStart : vStart) >= found) break;
      // Built containers (and, while one is assembled, its members already taken) parsed well.
      if (built.has(i) || (members[i + 3] as number) - vStart > SLICE_CHARS) continue;
      try {
        if (kStart < 0) parsePiece(`[${text.slice(vStart, members[i + 3])}]`, vStart - 1);
        else parsePiece(`{${text.slice(kStart, members[i + 3])}}`, kStart - 1);
      } catch (error) {
        if (error instanceof JsonSyntaxError) return error;
        throw error;
      }
      work += (members[i + 3] as number) - vStart;
      if (pos + work >= nextPause) await pause();
    }
    return new JsonSyntaxError(found);
  };

  try {
    await scan();
  } catch (error) {
    if (error instanceof JsonSyntaxError) throw await firstError(error.offset);
    throw error;
  }
  return root;

  async function scan() {
    let expect = Expect.Value;
    while (!done) {
      while (pos < n && isWhitespace(text.charCodeAt(pos))) pos++;
      if (pos >= n) throw new JsonSyntaxError(pos);
      if (pos + work >= nextPause) await pause();
      const code = text.charCodeAt(pos);
      const inArray = arrays[arrays.length - 1] === true;
      let closing: Promise<void> | undefined;
      switch (expect) {
        case Expect.ValueOrClose:
        case Expect.Value:
          if (expect === Expect.ValueOrClose && code === 0x5d) {
            closing = close();
            break;
          }
          if (code === 0x7b || code === 0x5b) {
            if (starts.length >= limits.maxDepth) throw new JsonTooDeep(limits.maxDepth);
            starts.push(pos);
            arrays.push(code === 0x5b);
            membersFrom.push(members.length);
            keyStarts.push(keyStart);
            keyEnds.push(keyEnd);
            keyStart = keyEnd = -1;
            pos++;
            expect = code === 0x7b ? Expect.KeyOrClose : Expect.ValueOrClose;
            continue;
          }
          {
            const end = code === QUOTE ? stringEnd(text, pos) : scalarEnd(text, pos);
            if (end === pos) throw new JsonSyntaxError(pos);
            record(keyStart, keyEnd, pos, end);
            pos = end;
          }
          break;
        case Expect.KeyOrClose:
        case Expect.Key:
          if (expect === Expect.KeyOrClose && code === 0x7d) {
            closing = close();
            break;
          }
          if (code !== QUOTE) throw new JsonSyntaxError(pos);
          keyStart = pos;
          keyEnd = stringEnd(text, pos);
          pos = keyEnd;
          expect = Expect.Colon;
          continue;
        case Expect.Colon:
          if (code !== 0x3a) throw new JsonSyntaxError(pos);
          pos++;
          expect = Expect.Value;
          continue;
        case Expect.CommaOrClose:
          if (code === 0x2c) {
            pos++;
            expect = inArray ? Expect.Value : Expect.Key;
            continue;
          }
          if (code !== (inArray ? 0x5d : 0x7d)) throw new JsonSyntaxError(pos);
          closing = close();
          break;
      }
      if (closing) await closing;
      // A value ended (a scalar, or a container closed): a comma or its container's end comes next.
      expect = Expect.CommaOrClose;
      keyStart = keyEnd = -1;
    }
    while (pos < n && isWhitespace(text.charCodeAt(pos))) pos++;
    if (pos < n) throw new JsonSyntaxError(pos);
  }
}

/**
 * parseJsonText for texts that may be large (parsed in slices: the thread is shared); nesting
 * deeper than `maxDepth` stops the parse (`tooDeep`).
 */
export async function parseJsonTextInSlices(
  text: string,
  maxDepth: number,
): Promise<JsonTextResult | { ok: false; tooDeep: true }> {
  if (text.length <= PARSE_AT_ONCE_CHARS) return parseJsonText(text);
  try {
    return { ok: true, value: await parseJsonInSlices(text, { maxDepth }) };
  } catch (error) {
    if (error instanceof JsonTooDeep) return { ok: false, tooDeep: true };
    if (error instanceof JsonSyntaxError)
      return { ok: false, error: syntaxErrorLocation(text, error.offset) };
    throw error;
  }
}
