import {
  complement,
  DIGIT,
  hex,
  LINE_TERMINATORS,
  MAX_CP,
  normalize,
  type Ranges,
  rangesToClassBody,
  WORD,
  WS,
} from "./ranges";
import { RegexError } from "./regex-error";
import { translateProperty } from "./unicode-properties";

/** A top-level atom, for the backtracking-safety analysis. */
export interface Atom {
  set: Ranges;
  min: number;
  max: number;
}

/** An ECMA pattern translated to RE2 syntax, with what the linearity proof needs. */
export interface Translation {
  re2: string;
  /** The pattern as a flat sequence of single-character atoms, or null if it has groups etc. */
  atoms: Atom[] | null;
  anchoredStart: boolean;
}

/** Translates an ECMA-262 (u-mode) pattern to RE2 syntax; throws RegexError for what RE2 cannot run. */
export function translate(pattern: string): Translation {
  const cps = Array.from(pattern);
  let i = 0;
  let out = "";
  let atoms: Atom[] | null = [];
  let anchoredStart = false;
  let depth = 0;
  const peek = (k = 0): string | undefined => cps[i + k];
  const fail = (msg: string): never => {
    throw new RegexError(pattern, "syntax", msg);
  };

  // Parses one escape after the backslash (i at the char after `\`). Returns either a literal code
  // point or a character set, plus the RE2 text for use outside a class.
  const readEscape = (inClass: boolean): { cp?: number; set?: Ranges; re2?: string } => {
    const c = cps[i++];
    if (c === undefined) return fail("trailing backslash");
    switch (c) {
      case "d":
        return { set: DIGIT, re2: "\\d" };
      case "D":
        return { set: complement(DIGIT), re2: "\\D" };
      case "w":
        return { set: WORD, re2: "\\w" };
      case "W":
        return { set: complement(WORD), re2: "\\W" };
      case "s":
        return { set: WS, re2: `[${rangesToClassBody(WS)}]` };
      case "S":
        return { set: complement(WS), re2: `[^${rangesToClassBody(WS)}]` };
      case "t":
        return { cp: 9 };
      case "n":
        return { cp: 10 };
      case "v":
        return { cp: 11 };
      case "f":
        return { cp: 12 };
      case "r":
        return { cp: 13 };
      case "b":
        if (inClass) return { cp: 8 };
        return { re2: "\\b" };
      case "B":
        if (inClass) return fail("\\B in class");
        return { re2: "\\B" };
      case "0":
        if (peek() !== undefined && /[0-9]/.test(peek() as string)) return fail("octal escape");
        return { cp: 0 };
      case "c": {
        const l = peek();
        if (l && /[A-Za-z]/.test(l)) {
          i++;
          return { cp: (l.codePointAt(0) as number) % 32 };
        }
        i--;
        return { cp: 0x5c };
      }
      case "x": {
        const h = cps.slice(i, i + 2).join("");
        if (/^[0-9A-Fa-f]{2}$/.test(h)) {
          i += 2;
          return { cp: Number.parseInt(h, 16) };
        }
        return { cp: 0x78 };
      }
      case "u": {
        if (peek() === "{") {
          const end = cps.indexOf("}", i);
          const h = cps.slice(i + 1, end).join("");
          if (end < 0 || !/^[0-9A-Fa-f]+$/.test(h)) return fail("bad \\u{} escape");
          i = end + 1;
          const cp = Number.parseInt(h, 16);
          if (cp > MAX_CP) return fail("code point out of range");
          return { cp };
        }
        const h = cps.slice(i, i + 4).join("");
        if (!/^[0-9A-Fa-f]{4}$/.test(h)) return { cp: 0x75 };
        i += 4;
        let cp = Number.parseInt(h, 16);
        if (cp >= 0xd800 && cp <= 0xdbff && peek() === "\\" && peek(1) === "u") {
          const l = cps.slice(i + 2, i + 6).join("");
          const lo = /^[0-9A-Fa-f]{4}$/.test(l) ? Number.parseInt(l, 16) : 0;
          if (lo >= 0xdc00 && lo <= 0xdfff) {
            i += 6;
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          }
        }
        return { cp };
      }
      case "p":
      case "P": {
        if (peek() !== "{") return fail("\\p needs {...}");
        const end = cps.indexOf("}", i);
        if (end < 0) return fail("unterminated \\p{");
        const body = cps.slice(i + 1, end).join("");
        i = end + 1;
        return { re2: translateProperty(body, c === "P", pattern) };
      }
      case "k":
        throw new RegexError(
          pattern,
          "unsupported",
          "named backreferences are not supported (linear-time engine)",
        );
      default:
        if (/[1-9]/.test(c)) {
          throw new RegexError(
            pattern,
            "unsupported",
            "backreferences are not supported (linear-time engine)",
          );
        }
        return { cp: c.codePointAt(0) as number };
    }
  };

  const readClass = (): { re2: string; set: Ranges | null } => {
    // i is after "["
    let negated = false;
    if (peek() === "^") {
      negated = true;
      i++;
    }
    let body = "";
    const set: Ranges = [];
    let exact = true;
    const readItem = (): { cp?: number; set?: Ranges; re2?: string } => {
      const c = cps[i++] as string;
      if (c === "\\") return readEscape(true);
      return { cp: c.codePointAt(0) as number };
    };
    for (;;) {
      const c = peek();
      if (c === undefined) fail("unterminated character class");
      if (c === "]") {
        i++;
        break;
      }
      const a = readItem();
      if (a.cp !== undefined && peek() === "-" && peek(1) !== undefined && peek(1) !== "]") {
        const save = i;
        i++;
        const b = readItem();
        if (b.cp !== undefined) {
          if (b.cp < a.cp) fail("range out of order in character class");
          body += `${hex(a.cp)}-${hex(b.cp)}`;
          set.push([a.cp, b.cp]);
          continue;
        }
        i = save;
      }
      if (a.cp !== undefined) {
        body += hex(a.cp);
        set.push([a.cp, a.cp]);
      } else if (a.set) {
        body += rangesToClassBody(a.set);
        set.push(...a.set);
      } else if (a.re2?.startsWith("\\p") || a.re2?.startsWith("\\P")) {
        body += a.re2;
        exact = false;
      } else if (a.re2?.startsWith("[")) {
        // \p{Any} / \p{ASCII} expansions
        body += a.re2.slice(a.re2.startsWith("[^") ? 2 : 1, -1);
        exact = false;
      }
    }
    if (body === "")
      return negated
        ? { re2: "[\\x{0}-\\x{10ffff}]", set: [[0, MAX_CP]] }
        : { re2: "[^\\x{0}-\\x{10ffff}]", set: [] };
    const ranges = normalize(set);
    return {
      re2: `[${negated ? "^" : ""}${body}]`,
      set: exact ? (negated ? complement(ranges) : ranges) : null,
    };
  };

  const readQuantifier = (): { text: string; min: number; max: number } | null => {
    const c = peek();
    let q: { text: string; min: number; max: number } | null = null;
    if (c === "*") q = { text: "*", min: 0, max: Number.POSITIVE_INFINITY };
    else if (c === "+") q = { text: "+", min: 1, max: Number.POSITIVE_INFINITY };
    else if (c === "?") q = { text: "?", min: 0, max: 1 };
    else if (c === "{") {
      const rest = cps.slice(i).join("");
      const m = /^\{(\d+)(,(\d*))?\}/.exec(rest);
      if (!m) return null;
      const min = Number(m[1]);
      const max = m[2] === undefined ? min : m[3] === "" ? Number.POSITIVE_INFINITY : Number(m[3]);
      if (max < min) fail("numbers out of order in quantifier");
      q = { text: m[0], min, max };
      i += Array.from(m[0]).length - 1;
    }
    if (!q) return null;
    i++;
    if (peek() === "?") {
      i++;
      q.text += "?";
    }
    return q;
  };

  while (i < cps.length) {
    const c = cps[i++] as string;
    let atomRe2: string | null = null;
    let atomSet: Ranges | null = null;
    switch (c) {
      case "^":
        out += "^";
        if (depth === 0 && i === 1) anchoredStart = true;
        else atoms = null;
        continue;
      case "$":
        out += "$";
        if (!(depth === 0 && i === cps.length)) atoms = null;
        continue;
      case "|":
        out += "|";
        atoms = null;
        continue;
      case "(": {
        atoms = null;
        depth++;
        if (peek() === "?") {
          const next = peek(1);
          if (next === ":") {
            out += "(?:";
            i += 2;
          } else if (next === "=" || next === "!" || (next === "<" && (peek(2) === "=" || peek(2) === "!"))) {
            throw new RegexError(
              pattern,
              "unsupported",
              "lookaround assertions are not supported (linear-time engine)",
            );
          } else if (next === "<") {
            const end = cps.indexOf(">", i);
            if (end < 0) fail("unterminated group name");
            out += `(?P<${cps.slice(i + 2, end).join("")}>`;
            i = end + 1;
          } else fail("invalid group");
        } else out += "(";
        continue;
      }
      case ")":
        if (depth === 0) fail("unmatched )");
        depth--;
        out += ")";
        // a quantifier may follow a group
        {
          const q = readQuantifier();
          if (q) out += q.text;
        }
        continue;
      case "[": {
        const cls = readClass();
        atomRe2 = cls.re2;
        atomSet = cls.set;
        break;
      }
      case ".":
        atomRe2 = `[^${rangesToClassBody(LINE_TERMINATORS)}]`;
        atomSet = complement(LINE_TERMINATORS);
        break;
      case "\\": {
        const e = readEscape(false);
        if (e.cp !== undefined) {
          atomRe2 = hex(e.cp);
          atomSet = [[e.cp, e.cp]];
        } else {
          atomRe2 = e.re2 ?? "";
          atomSet = e.set ?? null;
          if (atomRe2 === "\\b" || atomRe2 === "\\B") {
            out += atomRe2;
            atoms = null;
            continue;
          }
        }
        break;
      }
      case "*":
      case "+":
      case "?":
        return fail("nothing to repeat");
      case "{":
        if (/^\{\d+(,\d*)?\}/.test(cps.slice(i - 1).join(""))) fail("nothing to repeat");
        atomRe2 = "\\{";
        atomSet = [[0x7b, 0x7b]];
        break;
      default: {
        const cp = c.codePointAt(0) as number;
        atomRe2 = /[A-Za-z0-9_ ]/.test(c) ? c : hex(cp);
        atomSet = [[cp, cp]];
      }
    }
    out += atomRe2;
    const q = readQuantifier();
    if (q) out += q.text;
    if (atoms) {
      if (atomSet === null || depth > 0) atoms = null;
      else atoms.push({ set: atomSet, min: q ? q.min : 1, max: q ? q.max : 1 });
    }
  }
  if (depth !== 0) fail("unterminated group");
  return { re2: out, atoms, anchoredStart };
}
