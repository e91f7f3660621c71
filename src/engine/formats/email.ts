import type { FormatDefinition } from "./format";
import { checkHostname, MAX_HOSTNAME_UNITS } from "./hostname";
import { isIpv4 } from "./ipv4";
import { isIpv6 } from "./ipv6";

// ---- e-mail (RFC 5321 Mailbox; RFC 6531 for idn-email) ----
const ATEXT = "\\-A-Za-z0-9!#$%&'*+/=?^_`{|}~";
const DOT_ATOM = new RegExp(`^[${ATEXT}]+(?:\\.[${ATEXT}]+)*$`);
const DOT_ATOM_UTF8 = new RegExp(
  `^[${ATEXT}\\u0080-\\u{10ffff}]+(?:\\.[${ATEXT}\\u0080-\\u{10ffff}]+)*$`,
  "u",
);
const QUOTED = /^"(?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\[\x20-\x7e])*"$/;
const QUOTED_UTF8 = /^"(?:[\x20\x21\x23-\x5b\x5d-\x7e\u0080-\u{10ffff}]|\\[\x20-\x7e])*"$/u;
/** RFC 5321 Mailbox; `idn` allows UTF-8 local parts and domains (RFC 6531). */
export function checkEmail(s: string, idn: boolean): boolean {
  const at = s.lastIndexOf("@");
  if (at <= 0 || at === s.length - 1) return false;
  const local = s.slice(0, at);
  const domain = s.slice(at + 1);
  if (
    !(idn ? DOT_ATOM_UTF8.test(local) || QUOTED_UTF8.test(local) : DOT_ATOM.test(local) || QUOTED.test(local))
  )
    return false;
  if (domain.startsWith("[") && domain.endsWith("]")) {
    const lit = domain.slice(1, -1);
    if (lit.toLowerCase().startsWith("ipv6:")) return isIpv6(lit.slice(5));
    return isIpv4(lit);
  }
  // NFC shrinks a string at most threefold (Hangul jamo), so a longer domain cannot become a valid one:
  // refused before normalising it.
  if (domain.length > 3 * MAX_HOSTNAME_UNITS) return false;
  return checkHostname(idn ? domain.normalize("NFC") : domain, idn);
}

/** The characters of a dot-atom's atoms (ATEXT), by char code. */
const ATOM_CODES = new Uint8Array(128);
for (const c of "-!#$%&'*+/=?^_`{|}~0123456789") ATOM_CODES[c.charCodeAt(0)] = 1;
for (let c = 65; c <= 90; c++) ATOM_CODES[c] = ATOM_CODES[c + 32] = 1;

/**
 * The common address: a dot-atom, `@`, then a plain LDH host name (at most 253 characters, labels of
 * 1-63 not starting or ending with `-`, none an A-label). A sufficient condition of checkEmail(s,
 * false), read by char code: its regular expressions took about four times as long on one.
 */
function isPlainEmail(s: string): boolean {
  const at = s.lastIndexOf("@");
  const length = s.length;
  if (at <= 0 || length - at - 1 > 253) return false;
  let dot = true;
  for (let i = 0; i < at; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (dot) return false;
      dot = true;
    } else if (c < 128 && ATOM_CODES[c] === 1) dot = false;
    else return false;
  }
  if (dot) return false;
  let label = at + 1;
  for (let i = label; i <= length; i++) {
    const c = i < length ? s.charCodeAt(i) : 46;
    if (c === 46) {
      const size = i - label;
      if (size < 1 || size > 63 || s.charCodeAt(label) === 45 || s.charCodeAt(i - 1) === 45) return false;
      // An A-label needs the IDNA checks.
      if (size >= 4 && s.charCodeAt(label + 2) === 45 && s.charCodeAt(label + 3) === 45) {
        if ((s.charCodeAt(label) | 32) === 120 && (s.charCodeAt(label + 1) | 32) === 110) return false;
      }
      label = i + 1;
    } else if (!((c >= 48 && c <= 57) || ((c | 32) >= 97 && (c | 32) <= 122) || c === 45)) return false;
  }
  return true;
}

/** A valid address with its domain lower-cased (the local part is case-sensitive). */
export function lowerCaseDomain(s: string): string {
  const at = s.lastIndexOf("@");
  return at < 0 ? s : s.slice(0, at + 1) + s.slice(at + 1).toLowerCase();
}

/** `email`: normalised with a lower-case domain. */
export const email: FormatDefinition = {
  check: (s) => isPlainEmail(s) || checkEmail(s, false),
  normalize: lowerCaseDomain,
};
