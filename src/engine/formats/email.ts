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

/** A valid address with its domain lower-cased (the local part is case-sensitive). */
export function lowerCaseDomain(s: string): string {
  const at = s.lastIndexOf("@");
  return at < 0 ? s : s.slice(0, at + 1) + s.slice(at + 1).toLowerCase();
}

/** `email`: normalised with a lower-case domain. */
export const email: FormatDefinition = { check: (s) => checkEmail(s, false), normalize: lowerCaseDomain };
