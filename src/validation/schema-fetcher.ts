import { BoundedLru } from "../lib/bounded-lru";
import { JsonTooDeep, parseJsonInSlices } from "../lib/json-slices";
import { sha256Hex } from "../lib/sha256";
import { refuseUrl, type UrlRefusal } from "./address-policy";

export type SchemaFetchFailure =
  | UrlRefusal
  | "too_many_redirects"
  | "timeout"
  | "too_large"
  | "http_error"
  | "not_json"
  | "network_error";

/** A schema URL that could not be used; `reason` is stable, the message is safe to show the client. */
export class SchemaFetchError extends Error {
  constructor(
    readonly reason: SchemaFetchFailure,
    readonly url: string,
    message: string,
  ) {
    super(message);
    this.name = "SchemaFetchError";
  }
}

/** A fetched schema document and the validator that identifies its version. */
export interface FetchedSchema {
  url: string;
  body: unknown;
  /** The ETag, else a hash of the body: the compiled-schema cache keys on it. */
  version: string;
  /** Size of the body text (counted against a schema's remote-bytes limit and the cache's bound). */
  bytes: number;
}

export interface SchemaFetcherOptions {
  /** Hosts (or host:port) reachable even when private or plain http. Default none. */
  allowlist?: readonly string[];
  /** Budget for the whole redirect chain. Default 3000 ms. */
  timeoutMs?: number;
  /** Largest body accepted. Default 1 MiB. */
  maxBytes?: number;
  /** Deepest nesting parsed (deeper: JsonTooDeep, before the document is built). Default 1000. */
  maxDepth?: number;
  /** Redirects followed, each re-checked. Default 3. */
  maxRedirects?: number;
  /** Entries kept per isolate. Default 200. */
  cacheEntries?: number;
  /** Bytes of response bodies kept per isolate (each is up to `maxBytes`). Default 16 MiB. */
  cacheBytes?: number;
  /** Longest time a response is reused without revalidation, whatever Cache-Control says. Default 1 h. */
  maxCacheSeconds?: number;
  /**
   * How long a response without Cache-Control max-age or Expires is reused before it is
   * revalidated (most static hosts send none). Default 60 s.
   */
  defaultCacheSeconds?: number;
  fetch?: typeof fetch;
  now?: () => number;
}

interface CacheEntry extends FetchedSchema {
  etag?: string;
  lastModified?: string;
  /** Seconds of reuse the origin granted; a 304 without freshness headers grants it again. */
  lifetimeSeconds: number;
  freshUntil: number;
}

const REFUSAL_MESSAGES: Record<UrlRefusal, string> = {
  invalid_url: "is not a valid absolute URL",
  scheme_not_allowed: "must use https",
  credentials_in_url: "must not contain credentials",
  private_address: "points to a private, loopback, link-local or metadata address",
  internal_host: "names an internal host",
};

/**
 * Seconds a response may be reused without asking the origin again (RFC 9111 §4.2.1), `"no-store"`
 * when it must not be kept, or undefined when its headers say nothing about freshness.
 */
function freshnessOf(headers: Headers, cap: number): number | "no-store" | undefined {
  const cacheControl = headers.get("Cache-Control") ?? "";
  if (/(?:^|,)\s*no-store\b/i.test(cacheControl)) return "no-store";
  // Kept for its validators, but revalidated on every use.
  if (/(?:^|,)\s*(?:no-cache|private)\b/i.test(cacheControl)) return 0;
  const maxAge = cacheControl.match(/(?:^|,)\s*(?:s-maxage|max-age)\s*=\s*"?(\d+)/i);
  if (maxAge?.[1]) return Math.min(Number(maxAge[1]), cap);
  const expires = headers.get("Expires");
  if (expires === null) return undefined;
  const lifetimeMs = Date.parse(expires) - (Date.parse(headers.get("Date") ?? "") || Date.now());
  // An unparseable Expires ("0", "-1") means already expired.
  return Number.isNaN(lifetimeMs) ? 0 : Math.min(Math.max(0, Math.floor(lifetimeMs / 1000)), cap);
}

async function readCapped(response: Response, url: string, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get("Content-Length") ?? Number.NaN);
  if (declared > maxBytes)
    throw new SchemaFetchError("too_large", url, `${url} is larger than ${maxBytes} bytes`);
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new SchemaFetchError("too_large", url, `${url} is larger than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  const joined = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    joined.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(joined);
}

/**
 * The one way schemas are fetched (`schema_url` and remote `$ref`s): https only, every redirect
 * re-checked against the address policy, a time budget and a size cap, and an isolate-wide cache
 * that honours Cache-Control (max-age, no-cache, no-store) and Expires, keeps a document that says
 * nothing for `defaultCacheSeconds`, and revalidates stale entries with their ETag / Last-Modified.
 * Concurrent requests for one URL share a single fetch.
 */
export function createSchemaFetcher(options: SchemaFetcherOptions = {}) {
  const {
    allowlist = [],
    timeoutMs = 3000,
    maxBytes = 1024 * 1024,
    maxDepth = 1000,
    maxRedirects = 3,
    cacheEntries = 200,
    cacheBytes = 16 * 1024 * 1024,
    maxCacheSeconds = 3600,
    defaultCacheSeconds = 60,
    fetch: fetchImpl = (input: RequestInfo | URL, init?: RequestInit) => fetch(input, init),
    now = Date.now,
  } = options;
  const cache = new BoundedLru<CacheEntry>(cacheEntries, cacheBytes);

  function checked(raw: string, original: string): URL {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new SchemaFetchError("invalid_url", original, `${raw} ${REFUSAL_MESSAGES.invalid_url}`);
    }
    const refusal = refuseUrl(url, allowlist);
    if (refusal) throw new SchemaFetchError(refusal, original, `${url.href} ${REFUSAL_MESSAGES[refusal]}`);
    return url;
  }

  const inFlight = new Map<string, Promise<FetchedSchema>>();

  /** Keeps `entry` while it is fresh or can be revalidated; forgets the URL otherwise. */
  function remember(entry: CacheEntry, freshness: number | "no-store"): CacheEntry {
    if (freshness === "no-store" || (freshness === 0 && !entry.etag && !entry.lastModified)) {
      cache.delete(entry.url);
    } else {
      cache.set(
        entry.url,
        { ...entry, lifetimeSeconds: freshness, freshUntil: now() + freshness * 1000 },
        entry.bytes,
      );
    }
    return entry;
  }

  return async function fetchSchema(rawUrl: string): Promise<FetchedSchema> {
    const original = rawUrl.split("#")[0] ?? rawUrl;
    const key = checked(original, original).href;
    const cached = cache.get(key);
    if (cached && cached.freshUntil > now()) return cached;
    const pending = inFlight.get(key);
    if (pending) return pending;
    const fetching = fetchFromOrigin(original, key, cached).finally(() => inFlight.delete(key));
    inFlight.set(key, fetching);
    return fetching;
  };

  async function fetchFromOrigin(original: string, key: string, cached?: CacheEntry): Promise<FetchedSchema> {
    let url = new URL(key);
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      for (let redirects = 0; ; redirects++) {
        const revalidate = cached && url.href === key ? cached : undefined;
        const response = await fetchImpl(url.href, {
          redirect: "manual",
          signal,
          headers: {
            Accept: "application/schema+json, application/json;q=0.9, */*;q=0.1",
            ...(revalidate?.etag ? { "If-None-Match": revalidate.etag } : {}),
            ...(revalidate?.lastModified ? { "If-Modified-Since": revalidate.lastModified } : {}),
          },
        });
        if (response.status >= 300 && response.status < 400 && response.status !== 304) {
          const location = response.headers.get("Location");
          await response.body?.cancel();
          if (!location)
            throw new SchemaFetchError("http_error", original, `${url.href} redirected without a Location`);
          if (redirects >= maxRedirects) {
            throw new SchemaFetchError(
              "too_many_redirects",
              original,
              `${original} redirected more than ${maxRedirects} times`,
            );
          }
          url = checked(new URL(location, url).href, original);
          continue;
        }
        const freshness = freshnessOf(response.headers, maxCacheSeconds);
        if (response.status === 304 && revalidate) {
          return remember(revalidate, freshness ?? revalidate.lifetimeSeconds);
        }
        if (!response.ok) {
          await response.body?.cancel();
          throw new SchemaFetchError("http_error", original, `${url.href} answered HTTP ${response.status}`);
        }
        const text = await readCapped(response, original, maxBytes);
        let body: unknown;
        try {
          body = await parseJsonInSlices(text, { maxDepth });
        } catch (error) {
          if (error instanceof JsonTooDeep) throw error;
          throw new SchemaFetchError("not_json", original, `${url.href} did not return JSON`);
        }
        const etag = response.headers.get("ETag") ?? undefined;
        const entry: CacheEntry = {
          url: key,
          body,
          etag,
          lastModified: response.headers.get("Last-Modified") ?? undefined,
          version: etag ? `etag:${etag}` : `sha256:${await sha256Hex(text)}`,
          bytes: text.length,
          lifetimeSeconds: 0,
          freshUntil: 0,
        };
        return remember(entry, freshness ?? Math.min(defaultCacheSeconds, maxCacheSeconds));
      }
    } catch (error) {
      if (error instanceof SchemaFetchError) throw error;
      if (signal.aborted)
        throw new SchemaFetchError("timeout", original, `${original} did not answer within ${timeoutMs} ms`);
      throw new SchemaFetchError("network_error", original, `${original} could not be fetched`);
    }
  }
}

export type SchemaFetcher = ReturnType<typeof createSchemaFetcher>;
