import { isValidEcmaRegex } from "./regex";

// Format checks for `format` when asserted. All regular expressions here are fixed, written for this
// file and free of ambiguous nested quantifiers, so the native engine runs them in linear time.

const DAYS = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const isLeap = (y: number): boolean => y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);

/** Reads `n` ASCII digits at `i` as a number, or -1. */
function num(s: string, i: number, n: number): number {
  let v = 0;
  for (let k = i; k < i + n; k++) {
    const c = s.charCodeAt(k) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

function isDate(s: string): boolean {
  if (s.length !== 10 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45) return false;
  const y = num(s, 0, 4);
  const mo = num(s, 5, 2);
  const d = num(s, 8, 2);
  if (y < 0 || mo < 1 || mo > 12 || d < 1) return false;
  return d <= (mo === 2 && isLeap(y) ? 29 : (DAYS[mo] as number));
}

/** RFC 3339 full-time: hh:mm:ss[.frac](Z|+hh:mm|-hh:mm), leap second only at 23:59:60 UTC. */
function isTime(s: string): boolean {
  if (s.length < 9 || s.charCodeAt(2) !== 58 || s.charCodeAt(5) !== 58) return false;
  const h = num(s, 0, 2);
  const mi = num(s, 3, 2);
  const sec = num(s, 6, 2);
  if (h < 0 || mi < 0 || sec < 0 || h > 23 || mi > 59 || sec > 60) return false;
  let i = 8;
  if (s.charCodeAt(i) === 46) {
    i++;
    const start = i;
    while (i < s.length && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++;
    if (i === start) return false;
  }
  let offset = 0;
  const z = s.charCodeAt(i);
  if (z === 90 || z === 122) {
    if (i + 1 !== s.length) return false;
  } else if (z === 43 || z === 45) {
    if (s.length !== i + 6 || s.charCodeAt(i + 3) !== 58) return false;
    const oh = num(s, i + 1, 2);
    const om = num(s, i + 4, 2);
    if (oh < 0 || om < 0 || oh > 23 || om > 59) return false;
    offset = (z === 45 ? -1 : 1) * (oh * 60 + om);
  } else return false;
  if (sec === 60) {
    const utc = (((h * 60 + mi - offset) % 1440) + 1440) % 1440;
    if (utc !== 23 * 60 + 59) return false;
  }
  return true;
}

function isDateTime(s: string): boolean {
  const t = s.charCodeAt(10);
  if (t !== 84 && t !== 116) return false;
  return isDate(s.slice(0, 10)) && isTime(s.slice(11));
}

const DUR_TIME = "T(?:\\d+H(?:\\d+M(?:\\d+S)?)?|\\d+M(?:\\d+S)?|\\d+S)";
const DURATION_RE = new RegExp(
  `^P(?:(?:\\d+Y(?:\\d+M(?:\\d+D)?)?|\\d+M(?:\\d+D)?|\\d+D)(?:${DUR_TIME})?|${DUR_TIME}|\\d+W)$`,
);

const IPV4_RE =
  /^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$/;
const isIpv4 = (s: string): boolean => IPV4_RE.test(s);

const HEXGROUP = /^[0-9A-Fa-f]{1,4}$/;
function isIpv6(s: string): boolean {
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

// ---- Punycode (RFC 3492), for A-labels ----
const BASE = 36;
const TMIN = 1;
const TMAX = 26;
const SKEW = 38;
const DAMP = 700;
function adapt(delta: number, numPoints: number, first: boolean): number {
  let d = first ? Math.floor(delta / DAMP) : delta >> 1;
  d += Math.floor(d / numPoints);
  let k = 0;
  while (d > ((BASE - TMIN) * TMAX) >> 1) {
    d = Math.floor(d / (BASE - TMIN));
    k += BASE;
  }
  return k + Math.floor(((BASE - TMIN + 1) * d) / (d + SKEW));
}
function punyDecode(input: string): string | null {
  const out: number[] = [];
  const b = input.lastIndexOf("-");
  for (let j = 0; j < (b > 0 ? b : 0); j++) {
    const c = input.charCodeAt(j);
    if (c >= 0x80) return null;
    out.push(c);
  }
  let n = 128;
  let bias = 72;
  let i = 0;
  for (let idx = b > 0 ? b + 1 : 0; idx < input.length; ) {
    const oldi = i;
    let w = 1;
    for (let k = BASE; ; k += BASE) {
      if (idx >= input.length) return null;
      const c = input.charCodeAt(idx++);
      const digit = c - 48 < 10 ? c - 22 : c - 65 < 26 ? c - 65 : c - 97 < 26 ? c - 97 : BASE;
      if (digit >= BASE) return null;
      i += digit * w;
      const t = k <= bias ? TMIN : k >= bias + TMAX ? TMAX : k - bias;
      if (digit < t) break;
      w *= BASE - t;
      if (w > 0x7fffffff) return null;
    }
    bias = adapt(i - oldi, out.length + 1, oldi === 0);
    n += Math.floor(i / (out.length + 1));
    i %= out.length + 1;
    if (n > 0x10ffff) return null;
    out.splice(i++, 0, n);
  }
  return String.fromCodePoint(...out);
}
function punyEncode(input: string): string {
  const cps = Array.from(input, (c) => c.codePointAt(0) as number);
  let out = "";
  for (const c of cps) if (c < 0x80) out += String.fromCharCode(c);
  const basic = out.length;
  let h = basic;
  if (basic > 0) out += "-";
  let n = 128;
  let delta = 0;
  let bias = 72;
  while (h < cps.length) {
    let m = Number.MAX_SAFE_INTEGER;
    for (const c of cps) if (c >= n && c < m) m = c;
    delta += (m - n) * (h + 1);
    n = m;
    for (const c of cps) {
      if (c < n) delta++;
      if (c === n) {
        let q = delta;
        for (let k = BASE; ; k += BASE) {
          const t = k <= bias ? TMIN : k >= bias + TMAX ? TMAX : k - bias;
          if (q < t) break;
          const d = t + ((q - t) % (BASE - t));
          out += String.fromCharCode(d + 22 + 75 * (d < 26 ? 1 : 0));
          q = Math.floor((q - t) / (BASE - t));
        }
        out += String.fromCharCode(q + 22 + 75 * (q < 26 ? 1 : 0));
        bias = adapt(delta, h + 1, h === basic);
        delta = 0;
        h++;
      }
    }
    delta++;
    n++;
  }
  return out;
}

// ---- IDNA2008 (RFC 5891/5892/5893), approximated with Unicode property escapes ----
const LETTER_DIGIT = /^[\p{Ll}\p{Lo}\p{Nd}\p{Lm}\p{Mn}\p{Mc}]$/u;
const IGNORABLE = /^[\p{Default_Ignorable_Code_Point}\p{Noncharacter_Code_Point}\p{White_Space}]$/u;
const MARK_START = /^\p{M}/u;
const PVALID_EXCEPTIONS = new Set([0xdf, 0x3c2, 0x6fd, 0x6fe, 0xf0b, 0x3007]);
const DISALLOWED_EXCEPTIONS = new Set([
  0x640, 0x7fa, 0x302e, 0x302f, 0x3031, 0x3032, 0x3033, 0x3034, 0x3035, 0x303b,
]);
const VIRAMAS = new Set([
  0x94d, 0x9cd, 0xa4d, 0xacd, 0xb4d, 0xbcd, 0xc4d, 0xccd, 0xd3b, 0xd3c, 0xd4d, 0xdca, 0xe3a, 0xeba, 0xf84,
  0x1039, 0x103a, 0x1714, 0x1715, 0x1734, 0x17d2, 0x1a60, 0x1b44, 0x1baa, 0x1bab, 0x1bf2, 0x1bf3, 0x2d7f,
  0xa806, 0xa82c, 0xa8c4, 0xa953, 0xa9c0, 0xaaf6, 0xabed, 0x10a3f, 0x11046, 0x11070, 0x1107f, 0x110b9,
  0x11133, 0x11134, 0x111c0, 0x11235, 0x112ea, 0x1134d, 0x11442, 0x114c2, 0x115bf, 0x1163f, 0x116b6, 0x1172b,
  0x11839, 0x1193d, 0x1193e, 0x119e0, 0x11a34, 0x11a47, 0x11a99, 0x11c3f, 0x11d44, 0x11d45, 0x11d97,
]);
const JOINING =
  /^[\p{Script=Arabic}\p{Script=Syriac}\p{Script=Nko}\p{Script=Mongolian}\p{Script=Mandaic}\p{Script=Manichaean}\p{Script=Psalter_Pahlavi}\p{Script=Adlam}\p{Script=Phags_Pa}]$/u;
const TRANSPARENT = /^[\p{Mn}\p{Me}\p{Cf}]$/u;
const GREEK = /^\p{Script=Greek}$/u;
const HEBREW = /^\p{Script=Hebrew}$/u;
const KANA_HAN = /[\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Han}]/u;
const BIDI_R = /^[\p{Script=Hebrew}\p{Script=Nko}\p{Script=Samaritan}\p{Script=Mandaic}\p{Script=Adlam}]$/u;
const BIDI_AL = /^[\p{Script=Arabic}\p{Script=Syriac}\p{Script=Thaana}]$/u;
const isAN = (c: number): boolean =>
  (c >= 0x600 && c <= 0x605) || (c >= 0x660 && c <= 0x669) || c === 0x66b || c === 0x66c || c === 0x6dd;
const isEN = (c: number): boolean => (c >= 0x30 && c <= 0x39) || (c >= 0x6f0 && c <= 0x6f9);
const NSM = /^[\p{Mn}\p{Me}]$/u;

type Bidi = "L" | "R" | "AL" | "AN" | "EN" | "NSM" | "ON";
function bidiClass(ch: string): Bidi {
  const c = ch.codePointAt(0) as number;
  if (isAN(c)) return "AN";
  if (isEN(c)) return "EN";
  if (NSM.test(ch)) return "NSM";
  if (c === 0x2d || c === 0x200c || c === 0x200d) return "ON";
  if (BIDI_AL.test(ch)) return "AL";
  if (BIDI_R.test(ch)) return "R";
  return "L";
}

function isValidCodePoint(ch: string): boolean {
  const c = ch.codePointAt(0) as number;
  if ((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d) return true;
  if (PVALID_EXCEPTIONS.has(c)) return true;
  if (DISALLOWED_EXCEPTIONS.has(c)) return false;
  if (c === 0xb7 || c === 0x375 || c === 0x5f3 || c === 0x5f4 || c === 0x30fb || c === 0x200c || c === 0x200d)
    return true; // contextual, checked per label
  if (isAN(c) || (c >= 0x6f0 && c <= 0x6f9)) return true;
  if (c >= 0x1100 && c <= 0x11ff) return false; // old Hangul Jamo
  if (c < 0x80) return false;
  if (IGNORABLE.test(ch)) return false;
  if (ch.normalize("NFKC").toLowerCase() !== ch) return false;
  return LETTER_DIGIT.test(ch);
}

/** Validates one U-label (Unicode label), RFC 5891 §5.4 plus contextual rules of RFC 5892. */
function isULabel(label: string, rtlDomain: boolean): boolean {
  if (label.length === 0) return false;
  if (label.normalize("NFC") !== label) return false;
  if (label.startsWith("-") || label.endsWith("-")) return false;
  if (label.slice(2, 4) === "--") return false;
  if (MARK_START.test(label)) return false;
  const chars = Array.from(label);
  let hasArabicIndic = false;
  let hasExtArabicIndic = false;
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i] as string;
    const c = ch.codePointAt(0) as number;
    if (!isValidCodePoint(ch)) return false;
    const prev = chars[i - 1];
    const next = chars[i + 1];
    switch (c) {
      case 0x200d:
        if (!prev || !VIRAMAS.has(prev.codePointAt(0) as number)) return false;
        break;
      case 0x200c: {
        if (prev && VIRAMAS.has(prev.codePointAt(0) as number)) break;
        let j = i - 1;
        while (j >= 0 && TRANSPARENT.test(chars[j] as string)) j--;
        let k = i + 1;
        while (k < chars.length && TRANSPARENT.test(chars[k] as string)) k++;
        if (
          j < 0 ||
          k >= chars.length ||
          !JOINING.test(chars[j] as string) ||
          !JOINING.test(chars[k] as string)
        )
          return false;
        break;
      }
      case 0xb7:
        if (prev !== "l" || next !== "l") return false;
        break;
      case 0x375:
        if (!next || !GREEK.test(next)) return false;
        break;
      case 0x5f3:
      case 0x5f4:
        if (!prev || !HEBREW.test(prev)) return false;
        break;
      case 0x30fb:
        if (!KANA_HAN.test(label.replace(/\u30fb/g, ""))) return false;
        break;
      default:
        if (c >= 0x660 && c <= 0x669) hasArabicIndic = true;
        if (c >= 0x6f0 && c <= 0x6f9) hasExtArabicIndic = true;
    }
  }
  if (hasArabicIndic && hasExtArabicIndic) return false;
  if (rtlDomain && !bidiRule(chars)) return false;
  return true;
}

function bidiRule(chars: string[]): boolean {
  const classes = chars.map(bidiClass);
  const first = classes[0];
  let end = classes.length - 1;
  while (end > 0 && classes[end] === "NSM") end--;
  const last = classes[end];
  if (first === "R" || first === "AL") {
    let en = false;
    let an = false;
    for (const c of classes) {
      if (c === "L") return false;
      if (c === "EN") en = true;
      if (c === "AN") an = true;
    }
    if (en && an) return false;
    return last === "R" || last === "AL" || last === "EN" || last === "AN";
  }
  if (first !== "L") return false;
  for (const c of classes) if (c === "R" || c === "AL" || c === "AN") return false;
  return last === "L" || last === "EN";
}

const hasRtl = (label: string): boolean =>
  Array.from(label).some((ch) => {
    const b = bidiClass(ch);
    return b === "R" || b === "AL" || b === "AN";
  });

const PLAIN_HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

function checkHostname(s: string, idn: boolean): boolean {
  if (s.length === 0) return false;
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

// ---- e-mail (RFC 5321 Mailbox; RFC 6531 for idn-email) ----
const ATEXT = "\\-A-Za-z0-9!#$%&'*+/=?^_`{|}~";
const DOT_ATOM = new RegExp(`^[${ATEXT}]+(?:\\.[${ATEXT}]+)*$`);
const DOT_ATOM_UTF8 = new RegExp(
  `^[${ATEXT}\\u0080-\\u{10ffff}]+(?:\\.[${ATEXT}\\u0080-\\u{10ffff}]+)*$`,
  "u",
);
const QUOTED = /^"(?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\[\x20-\x7e])*"$/;
const QUOTED_UTF8 = /^"(?:[\x20\x21\x23-\x5b\x5d-\x7e\u0080-\u{10ffff}]|\\[\x20-\x7e])*"$/u;
function checkEmail(s: string, idn: boolean): boolean {
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
  return checkHostname(idn ? domain.normalize("NFC") : domain, idn);
}

// ---- URIs (RFC 3986) and IRIs (RFC 3987) ----
const SPLIT_RE = /^(?:([^:/?#]+):)?(?:\/\/([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$/su;
const UCS =
  "\\u00a0-\\ud7ff\\uf900-\\ufdcf\\ufdf0-\\uffef\\u{10000}-\\u{1fffd}\\u{20000}-\\u{2fffd}\\u{30000}-\\u{3fffd}\\u{40000}-\\u{4fffd}\\u{50000}-\\u{5fffd}\\u{60000}-\\u{6fffd}\\u{70000}-\\u{7fffd}\\u{80000}-\\u{8fffd}\\u{90000}-\\u{9fffd}\\u{a0000}-\\u{afffd}\\u{b0000}-\\u{bfffd}\\u{c0000}-\\u{cfffd}\\u{d0000}-\\u{dfffd}\\u{e1000}-\\u{efffd}";
const PRIVATE = "\\ue000-\\uf8ff\\u{f0000}-\\u{ffffd}\\u{100000}-\\u{10fffd}";
function componentRe(extra: string, iri: boolean, priv = false): RegExp {
  const chars = `A-Za-z0-9\\-._~!$&'()*+,;=${extra}${iri ? UCS : ""}${iri && priv ? PRIVATE : ""}`;
  return new RegExp(`^(?:[${chars}]|%[0-9A-Fa-f]{2})*$`, "u");
}
const RE_CACHE = {
  uri: {
    userinfo: componentRe(":", false),
    reg: componentRe("", false),
    path: componentRe(":@/", false),
    query: componentRe(":@/?", false),
  },
  iri: {
    userinfo: componentRe(":", true),
    reg: componentRe("", true),
    path: componentRe(":@/", true),
    query: componentRe(":@/?", true, true),
  },
};
const SCHEME_RE = /^[A-Za-z][A-Za-z0-9+.-]*$/;
const IPVFUTURE_RE = /^[vV][0-9A-Fa-f]+\.[A-Za-z0-9\-._~!$&'()*+,;=:]+$/;

const ASCII_RE = /^[\x21-\x7e]*$/;

// A strict subset of RFC 3986 covering the common http(s) URL; a match is a valid URI (fast path).
const SIMPLE_HTTP_URI =
  /^https?:\/\/[A-Za-z0-9.-]+(?::[0-9]+)?(?:\/(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})*)?(?:\?(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})*)?(?:#(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})*)?$/;

function checkUri(s: string, iriRequested: boolean, reference: boolean): boolean {
  if (SIMPLE_HTTP_URI.test(s)) return true;
  // An all-ASCII string is an IRI exactly when it is a URI; the ASCII regexes are cheaper.
  const iri = iriRequested && !ASCII_RE.test(s);
  const m = SPLIT_RE.exec(s);
  if (!m) return false;
  const [, scheme, authority, path = "", query, fragment] = m;
  const res = iri ? RE_CACHE.iri : RE_CACHE.uri;
  if (scheme === undefined) {
    if (!reference) return false;
    // relative-ref: a first path segment containing ":" would be read as a scheme
    if (authority === undefined && !path.startsWith("/") && path.split("/")[0]?.includes(":")) return false;
  } else if (!SCHEME_RE.test(scheme)) return false;
  if (authority !== undefined) {
    let hostport = authority;
    const at = authority.lastIndexOf("@");
    if (at >= 0) {
      if (!res.userinfo.test(authority.slice(0, at))) return false;
      hostport = authority.slice(at + 1);
    }
    let host = hostport;
    if (hostport.startsWith("[")) {
      const close = hostport.indexOf("]");
      if (close < 0) return false;
      host = hostport.slice(1, close);
      const rest = hostport.slice(close + 1);
      if (rest !== "" && !/^:[0-9]*$/.test(rest)) return false;
      if (!(isIpv6(host) || IPVFUTURE_RE.test(host))) return false;
    } else {
      const colon = hostport.lastIndexOf(":");
      if (colon >= 0) {
        if (!/^[0-9]*$/.test(hostport.slice(colon + 1))) return false;
        host = hostport.slice(0, colon);
      }
      if (!res.reg.test(host)) return false;
    }
    if (path !== "" && !path.startsWith("/")) return false;
  } else if (path.startsWith("//")) return false;
  if (!res.path.test(path)) return false;
  if (query !== undefined && !res.query.test(query)) return false;
  if (fragment !== undefined && !res.query.test(fragment)) return false;
  return true;
}

// ---- URI Template (RFC 6570) ----
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

const JSON_POINTER_RE = /^(?:\/(?:[^~/]|~[01])*)*$/;
const REL_JSON_POINTER_RE = /^(?:0|[1-9][0-9]*)(?:#|(?:\/(?:[^~/]|~[01])*)*)$/;
const UUID_RE = /^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/;

/** Format checks by name; a format not listed here is not asserted (it is unknown). */
export const FORMAT_CHECKS: Readonly<Record<string, (s: string) => boolean>> = {
  "date-time": isDateTime,
  date: isDate,
  time: isTime,
  duration: (s) => DURATION_RE.test(s),
  email: (s) => checkEmail(s, false),
  "idn-email": (s) => checkEmail(s, true),
  hostname: (s) => checkHostname(s, false),
  "idn-hostname": (s) => checkHostname(s, true),
  ipv4: isIpv4,
  ipv6: isIpv6,
  uri: (s) => checkUri(s, false, false),
  "uri-reference": (s) => checkUri(s, false, true),
  iri: (s) => checkUri(s, true, false),
  "iri-reference": (s) => checkUri(s, true, true),
  "uri-template": isUriTemplate,
  "json-pointer": (s) => JSON_POINTER_RE.test(s),
  "relative-json-pointer": (s) => REL_JSON_POINTER_RE.test(s),
  regex: isValidEcmaRegex,
  uuid: (s) => UUID_RE.test(s),
};

const pad = (n: number, w = 2): string => String(n).padStart(w, "0");

/**
 * The normalised form of a valid formatted string, for enrichment: date-time in UTC with `Z`,
 * e-mail with a lower-case domain, URI/IRI with lower-case scheme and host. Other formats unchanged.
 */
export function normalizeFormat(format: string, s: string): string {
  switch (format) {
    case "date-time": {
      const m =
        /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/.exec(s);
      if (!m) return s;
      const sec = Number(m[6]);
      const offset = m[8] ? (m[8] === "-" ? -1 : 1) * (Number(m[9]) * 60 + Number(m[10])) : 0;
      const t = Date.UTC(
        Number(m[1]),
        Number(m[2]) - 1,
        Number(m[3]),
        Number(m[4]),
        Number(m[5]) - offset,
        Math.min(sec, 59),
      );
      const d = new Date(t);
      if (Number.isNaN(d.getTime())) return s;
      const y = d.getUTCFullYear();
      return `${pad(y, 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(sec === 60 ? 60 : d.getUTCSeconds())}${m[7] ?? ""}Z`;
    }
    case "email":
    case "idn-email": {
      const at = s.lastIndexOf("@");
      return at < 0 ? s : s.slice(0, at + 1) + s.slice(at + 1).toLowerCase();
    }
    case "uri":
    case "iri": {
      const m = /^([A-Za-z][A-Za-z0-9+.-]*):(\/\/)?([^/?#]*)(.*)$/su.exec(s);
      if (!m) return s;
      const scheme = (m[1] as string).toLowerCase();
      if (!m[2]) return `${scheme}:${m[3]}${m[4]}`;
      const auth = m[3] as string;
      const at = auth.lastIndexOf("@");
      const userinfo = at >= 0 ? auth.slice(0, at + 1) : "";
      const hostport = at >= 0 ? auth.slice(at + 1) : auth;
      return `${scheme}://${userinfo}${hostport.toLowerCase()}${m[4]}`;
    }
    default:
      return s;
  }
}
