// RFC 3986 reference resolution. The WHATWG URL class is not used because it rejects or rewrites
// URIs that JSON Schema identifiers legitimately use (urn:, tag:, relative bases).

interface UriParts {
  scheme: string | undefined;
  authority: string | undefined;
  path: string;
  query: string | undefined;
  fragment: string | undefined;
}

const URI_RE = /^(?:([A-Za-z][A-Za-z0-9+.-]*):)?(?:\/\/([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$/s;

function parseUri(uri: string): UriParts {
  const m = URI_RE.exec(uri);
  if (!m)
    return { scheme: undefined, authority: undefined, path: uri, query: undefined, fragment: undefined };
  return { scheme: m[1], authority: m[2], path: m[3] ?? "", query: m[4], fragment: m[5] };
}

function removeDotSegments(path: string): string {
  if (!path.includes(".")) return path;
  const input = path.split("/");
  const out: string[] = [];
  for (let i = 0; i < input.length; i++) {
    const seg = input[i] as string;
    const last = i === input.length - 1;
    if (seg === ".") {
      if (last) out.push("");
    } else if (seg === "..") {
      if (out.length > 1 || (out.length === 1 && out[0] !== "")) out.pop();
      if (last) out.push("");
    } else {
      out.push(seg);
    }
  }
  return out.join("/");
}

function mergePaths(base: UriParts, ref: string): string {
  if (base.authority !== undefined && base.path === "") return `/${ref}`;
  const i = base.path.lastIndexOf("/");
  return i >= 0 ? base.path.slice(0, i + 1) + ref : ref;
}

function recompose(p: UriParts): string {
  let s = "";
  if (p.scheme !== undefined) s += `${p.scheme}:`;
  if (p.authority !== undefined) s += `//${p.authority}`;
  s += p.path;
  if (p.query !== undefined) s += `?${p.query}`;
  if (p.fragment !== undefined) s += `#${p.fragment}`;
  return s;
}

/** Resolves `ref` against the absolute `base` (RFC 3986 §5.2). */
export function resolveUri(base: string, ref: string): string {
  // A fragment-only reference (`#/$defs/x`, the commonest) replaces the base's fragment: the parse
  // below splits the base at its first `#` and puts the rest back unchanged.
  if (ref.startsWith("#")) {
    const hash = base.indexOf("#");
    return (hash < 0 ? base : base.slice(0, hash)) + ref;
  }
  const r = parseUri(ref);
  const b = parseUri(base);
  const t: UriParts = {
    scheme: undefined,
    authority: undefined,
    path: "",
    query: undefined,
    fragment: r.fragment,
  };
  if (r.scheme !== undefined) {
    t.scheme = r.scheme;
    t.authority = r.authority;
    t.path = removeDotSegments(r.path);
    t.query = r.query;
  } else {
    t.scheme = b.scheme;
    if (r.authority !== undefined) {
      t.authority = r.authority;
      t.path = removeDotSegments(r.path);
      t.query = r.query;
    } else {
      t.authority = b.authority;
      if (r.path === "") {
        t.path = b.path;
        t.query = r.query !== undefined ? r.query : b.query;
      } else {
        t.path = r.path.startsWith("/")
          ? removeDotSegments(r.path)
          : removeDotSegments(mergePaths(b, r.path));
        t.query = r.query;
      }
    }
  }
  return recompose(t);
}

/** Splits a URI into the part before `#` and the (still percent-encoded) fragment. */
export function splitFragment(uri: string): [string, string] {
  const i = uri.indexOf("#");
  return i < 0 ? [uri, ""] : [uri.slice(0, i), uri.slice(i + 1)];
}

/** True when the URI has a scheme (is absolute, possibly with a fragment). */
export function hasScheme(uri: string): boolean {
  return /^[A-Za-z][A-Za-z0-9+.-]*:/.test(uri);
}

/** Escapes one JSON Pointer reference token (RFC 6901). */
export function escapePointerToken(token: string): string {
  return token.includes("~") || token.includes("/") ? token.replace(/~/g, "~0").replace(/\//g, "~1") : token;
}

/** Unescapes one JSON Pointer reference token (RFC 6901). */
export function unescapePointerToken(token: string): string {
  return token.includes("~") ? token.replace(/~1/g, "/").replace(/~0/g, "~") : token;
}

/** Base URI of a schema sent without an absolute `$id`: a placeholder never shown to clients. */
export const PLACEHOLDER_BASE = "https://schema-meter.invalid/schema";
/** The placeholder's directory: embedded relative `$id`s resolve below it. */
export const PLACEHOLDER_ORIGIN = "https://schema-meter.invalid/";

/** Encodes a JSON Pointer for use as a URI fragment (RFC 6901 §6). */
export function pointerToFragment(ptr: string): string {
  return ptr.replace(/[^A-Za-z0-9\-._~!$&'()*+,;=:@/]/gu, (c) =>
    c.length === 1 && c.charCodeAt(0) >= 0xd800 && c.charCodeAt(0) <= 0xdfff
      ? "%EF%BF%BD"
      : encodeURIComponent(c),
  );
}
