import type { FormatDefinition } from "./format";
import { bidiRule, hasRtl, isULabel } from "./idna";
import { punyDecode, punyEncode } from "./punycode";

const PLAIN_HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** Longest name: 253 characters of A-labels; each code point takes at least one, each at most 2 UTF-16 units. */
export const MAX_HOSTNAME_UNITS = 2 * 253;
/** Longest U-label in code points: its A-label ("xn--", then at least one character per code point) has at most 63. */
const MAX_ULABEL_CODE_POINTS = 63 - 4;

/** RFC 1123 host names; `idn` also accepts U-labels (RFC 5890), with A-labels checked both ways.
 * Lengths are checked before any punycode (quadratic in a label's length), so every check is linear. */
export function checkHostname(s: string, idn: boolean): boolean {
  if (s.length === 0 || s.length > MAX_HOSTNAME_UNITS) return false;
  // Fast path: plain ASCII LDH names without A-labels need none of the IDNA machinery.
  if (PLAIN_HOSTNAME.test(s) && !/(?:^|\.)xn--/i.test(s)) return true;
  const labels = idn ? s.split(/[.\u3002\uff0e\uff61]/) : s.split(".");
  const ulabels: string[] = [];
  const alabels: string[] = [];
  for (const label of labels) {
    if (label.length === 0) return false;
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the check is about control characters.
    if (/^[\x00-\x7f]*$/.test(label)) {
      if (!/^[A-Za-z0-9-]{1,63}$/.test(label) || label.startsWith("-") || label.endsWith("-")) return false;
      const lower = label.toLowerCase();
      if (lower.startsWith("xn--")) {
        const u = punyDecode(lower.slice(4));
        // biome-ignore lint/suspicious/noControlCharactersInRegex: the check is about control characters.
        if (u === null || /^[\x00-\x7f]*$/.test(u) || punyEncode(u) !== lower.slice(4)) return false;
        ulabels.push(u);
      } else ulabels.push(lower);
      alabels.push(label);
    } else {
      if (!idn) return false;
      if (label.length > MAX_ULABEL_CODE_POINTS && codePoints(label) > MAX_ULABEL_CODE_POINTS) return false;
      ulabels.push(label);
      const a = `xn--${punyEncode(label)}`;
      if (a.length > 63) return false;
      alabels.push(a);
    }
  }
  if (alabels.join(".").length > 253) return false;
  const rtl = ulabels.some(hasRtl);
  for (const u of ulabels) {
    if (/^[a-z0-9-]*$/.test(u)) {
      if (rtl && !bidiRule(Array.from(u))) return false;
      continue;
    }
    if (!isULabel(u, rtl)) return false;
  }
  return true;
}

function codePoints(s: string): number {
  let count = 0;
  for (let i = 0; i < s.length; i++) {
    const unit = s.charCodeAt(i);
    if (unit < 0xd800 || unit > 0xdbff) count++;
  }
  return count;
}

/** `hostname`. */
export const hostname: FormatDefinition = { check: (s) => checkHostname(s, false) };
