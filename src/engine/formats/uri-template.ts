import type { FormatDefinition } from "./format";

// RFC 6570 URI Templates: literals and {expressions} of operator-prefixed varspecs.

// biome-ignore lint/suspicious/noControlCharactersInRegex: the check is about control characters.
const TEMPLATE_LITERAL = /^(?:[^\x00-\x20"%<>\\^`{|}\x7f]|%[0-9A-Fa-f]{2})$/u;
const VARSPEC =
  /^(?:[A-Za-z0-9_]|%[0-9A-Fa-f]{2})+(?:\.(?:[A-Za-z0-9_]|%[0-9A-Fa-f]{2})+)*(?::[1-9][0-9]{0,3}|\*)?$/;
function isUriTemplate(s: string): boolean {
  let i = 0;
  while (i < s.length) {
    const c = s[i] as string;
    if (c === "{") {
      const end = s.indexOf("}", i);
      if (end < 0) return false;
      let expr = s.slice(i + 1, end);
      if (expr.length > 0 && "+#./;?&".includes(expr[0] as string)) expr = expr.slice(1);
      if (expr.length === 0) return false;
      for (const v of expr.split(",")) if (!VARSPEC.test(v)) return false;
      i = end + 1;
    } else if (c === "%") {
      if (!/^%[0-9A-Fa-f]{2}/.test(s.slice(i, i + 3))) return false;
      i += 3;
    } else {
      const cp = s.codePointAt(i) as number;
      const ch = String.fromCodePoint(cp);
      if (!TEMPLATE_LITERAL.test(ch)) return false;
      i += ch.length;
    }
  }
  return true;
}

/** `uri-template`: RFC 6570 level 4 syntax. */
export const uriTemplate: FormatDefinition = { check: isUriTemplate };
