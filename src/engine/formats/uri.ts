import type { FormatDefinition } from "./format";
import { isIpv6 } from "./ipv6";

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

/** RFC 3986 URI (or, with `reference`, URI-reference); `iriRequested` widens to RFC 3987 IRIs. */
export function checkUri(s: string, iriRequested: boolean, reference: boolean): boolean {
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

/** A valid URI or IRI with its scheme and host lower-cased. */
export function lowerCaseSchemeAndHost(s: string): string {
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

/** `uri`: normalised with a lower-case scheme and host. */
export const uri: FormatDefinition = {
  check: (s) => checkUri(s, false, false),
  normalize: lowerCaseSchemeAndHost,
};

/** `uri-reference`. */
export const uriReference: FormatDefinition = { check: (s) => checkUri(s, false, true) };
