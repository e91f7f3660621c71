import type { FormatDefinition } from "./format";
import { isIpv4 } from "./ipv4";

const HEXGROUP = /^[0-9A-Fa-f]{1,4}$/;

/** RFC 4291 text form: eight groups, one `::`, an optional IPv4 tail. */
export function isIpv6(s: string): boolean {
  if (s.length < 2 || s.length > 45) return false;
  let groups = 0;
  let body = s;
  const lastColon = s.lastIndexOf(":");
  if (lastColon >= 0 && s.indexOf(".", lastColon) > 0) {
    if (!isIpv4(s.slice(lastColon + 1))) return false;
    groups += 2;
    body = s.slice(0, lastColon + 1);
    if (body.endsWith("::")) {
      // "::1.2.3.4": keep the double colon
    } else body = body.slice(0, -1);
  }
  const dbl = body.indexOf("::");
  if (dbl >= 0) {
    if (body.indexOf("::", dbl + 1) >= 0) return false;
    const left = body.slice(0, dbl);
    const right = body.slice(dbl + 2);
    const l = left === "" ? [] : left.split(":");
    const r = right === "" ? [] : right.split(":");
    for (const g of [...l, ...r]) if (!HEXGROUP.test(g)) return false;
    return groups + l.length + r.length <= 7;
  }
  const parts = body.split(":");
  for (const g of parts) if (!HEXGROUP.test(g)) return false;
  return groups + parts.length === 8;
}

/** `ipv6`. */
export const ipv6: FormatDefinition = { check: isIpv6 };
