import { RegexError } from "./regex-error";

// An ECMA-262 (u-mode) pattern as a tree, for the bounded backtracking matcher (backtrack.ts).
// The syntax is first checked by the host's `RegExp` constructor, so this parser only has to split
// a valid pattern into its parts. A character atom (literal, class, escape, dot) keeps its own
// source text and is tested with a one-character native RegExp (`^(?:atom)$`): ECMA's class and
// property semantics come from the host, and a one-character match is constant time.

export type Node =
  | { t: "char"; test: (c: string) => boolean }
  | { t: "seq"; items: Node[] }
  | { t: "alt"; alts: Node[] }
  | { t: "group"; index: number | null; body: Node }
  | { t: "look"; ahead: boolean; neg: boolean; body: Node }
  | { t: "rep"; body: Node; min: number; max: number; greedy: boolean }
  | { t: "bol" }
  | { t: "eol" }
  | { t: "wordb"; neg: boolean }
  | { t: "backref"; index: number };

export interface Parsed {
  root: Node;
  /** Capture groups, not counting group 0. */
  groups: number;
}

/** The deepest group nesting accepted (the parser and the program compiler recurse per level). */
const MAX_DEPTH = 200;

const LINE_TERMINATOR = /^[\n\r\u2028\u2029]$/;

/** Parses a valid ECMA-262 u-mode pattern; throws RegexError (syntax) when the host rejects it. */
export function parse(pattern: string): Parsed {
  try {
    new RegExp(pattern, "u");
  } catch (e) {
    throw new RegexError(pattern, "syntax", (e as Error).message);
  }
  const cps = Array.from(pattern);
  let i = 0;
  let groups = 0;
  let depth = 0;
  const names = new Map<string, number>();
  const namedRefs: Array<{ node: { t: "backref"; index: number }; name: string }> = [];

  const charNode = (text: string): Node => {
    const re = new RegExp(`^(?:${text})$`, "u");
    return { t: "char", test: (c) => re.test(c) };
  };
  const literal = (c: string): Node => ({ t: "char", test: (x) => x === c });

  const parseAlt = (): Node => {
    const alts: Node[] = [parseSeq()];
    while (cps[i] === "|") {
      i++;
      alts.push(parseSeq());
    }
    return alts.length === 1 ? (alts[0] as Node) : { t: "alt", alts };
  };

  const parseSeq = (): Node => {
    const items: Node[] = [];
    while (i < cps.length && cps[i] !== "|" && cps[i] !== ")") {
      const atom = parseAtom();
      items.push(parseQuantifier(atom));
    }
    return items.length === 1 ? (items[0] as Node) : { t: "seq", items };
  };

  const parseQuantifier = (atom: Node): Node => {
    const c = cps[i];
    let min: number;
    let max: number;
    if (c === "*") [min, max] = [0, Number.POSITIVE_INFINITY];
    else if (c === "+") [min, max] = [1, Number.POSITIVE_INFINITY];
    else if (c === "?") [min, max] = [0, 1];
    else if (c === "{") {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(cps.slice(i, i + 40).join(""));
      if (!m) return atom;
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === "" ? Number.POSITIVE_INFINITY : Number(m[3]);
      i += m[0].length - 1;
    } else return atom;
    i++;
    let greedy = true;
    if (cps[i] === "?") {
      greedy = false;
      i++;
    }
    return { t: "rep", body: atom, min, max, greedy };
  };

  const parseAtom = (): Node => {
    const start = i;
    const c = cps[i++] as string;
    switch (c) {
      case "^":
        return { t: "bol" };
      case "$":
        return { t: "eol" };
      case ".":
        return { t: "char", test: (x) => !LINE_TERMINATOR.test(x) };
      case "(": {
        if (++depth > MAX_DEPTH) throw new RegexError(pattern, "unsupported", "pattern nested too deeply");
        let index: number | null = null;
        let look: { ahead: boolean; neg: boolean } | null = null;
        if (cps[i] === "?") {
          const n = cps[i + 1];
          if (n === ":") i += 2;
          else if (n === "=" || n === "!") {
            look = { ahead: true, neg: n === "!" };
            i += 2;
          } else if (n === "<" && (cps[i + 2] === "=" || cps[i + 2] === "!")) {
            look = { ahead: false, neg: cps[i + 2] === "!" };
            i += 3;
          } else {
            const end = cps.indexOf(">", i);
            index = ++groups;
            names.set(cps.slice(i + 2, end).join(""), index);
            i = end + 1;
          }
        } else index = ++groups;
        const body = parseAlt();
        i++; // ")"
        depth--;
        return look ? { t: "look", ...look, body } : { t: "group", index, body };
      }
      case "[": {
        if (cps[i] === "^") i++;
        if (cps[i] === "]") i++;
        else {
          while (cps[i] !== "]") i += cps[i] === "\\" ? 2 : 1;
          i++;
        }
        // `[]` and `[^]` first: a one-character RegExp handles them like any class.
        return charNode(cps.slice(start, i).join(""));
      }
      case "\\":
        return parseEscape(start);
      default:
        return literal(c);
    }
  };

  const parseEscape = (start: number): Node => {
    const c = cps[i++] as string;
    if (c === "b" || c === "B") return { t: "wordb", neg: c === "B" };
    if (/[1-9]/.test(c)) {
      while (/[0-9]/.test(cps[i] ?? "")) i++;
      return { t: "backref", index: Number(cps.slice(start + 1, i).join("")) };
    }
    if (c === "k") {
      const end = cps.indexOf(">", i);
      const node = { t: "backref" as const, index: 0 };
      namedRefs.push({ node, name: cps.slice(i + 1, end).join("") });
      i = end + 1;
      return node;
    }
    if (c === "p" || c === "P" || (c === "u" && cps[i] === "{")) i = cps.indexOf("}", i) + 1;
    else if (c === "u" && /^[0-9A-Fa-f]{4}$/.test(cps.slice(i, i + 4).join(""))) {
      const hi = Number.parseInt(cps.slice(i, i + 4).join(""), 16);
      i += 4;
      const lo = cps.slice(i + 2, i + 6).join("");
      if (
        hi >= 0xd800 &&
        hi <= 0xdbff &&
        cps[i] === "\\" &&
        cps[i + 1] === "u" &&
        /^[dD][c-fC-F][0-9A-Fa-f]{2}$/.test(lo)
      )
        i += 6;
    } else if (c === "x") i += 2;
    else if (c === "c") i += 1;
    return charNode(cps.slice(start, i).join(""));
  };

  const root = parseAlt();
  for (const ref of namedRefs) ref.node.index = names.get(ref.name) ?? 0;
  return { root, groups };
}
