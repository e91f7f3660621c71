import { BoundedLru } from "../lib/bounded-lru";
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
  /** Redirects followed, each re-checked. Default 3. */
  maxRedirects?: number;
  /** Entries kept per isolate. Default 200. */
  cacheEntries?: number;
  /** Bytes of response bodies kept per isolate (each is up to `maxBytes`). Default 16 MiB. */
  cacheBytes?: number;
  /** Longest time a response is reused without revalidation, whatever Cache-Control says. Default 1 h. */
  maxCacheSeconds?: number;
  fetch?: typeof fetch;
  now?: () => number;
}

interface CacheEntry extends FetchedSchema {
  etag?: string;
  freshUntil: number;
}

const REFUSAL_MESSAGES: Record<UrlRefusal, string> = {
  invalid_url: "is not a valid absolute URL",
  scheme_not_allowed: "must use https",
  credentials_in_url: "must not contain credentials",
  private_address: "points to a private, loopback, link-local or metadata address",
  internal_host: "names an internal host",
};

function freshnessSeconds(cacheControl: string | null, cap: number): number {
  if (!cacheControl || /no-store|no-cache|private/i.test(cacheControl)) return 0;
  const maxAge = cacheControl.match(/(?:^|,)\s*(?:s-)?max-age=(\d+)/i);
  return maxAge?.[1] ? Math.min(Number(maxAge[1]), cap) : 0;
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
 * that honours Cache-Control and revalidates with ETag.
 */
export function createSchemaFetcher(options: SchemaFetcherOptions = {}) {
  const {
    allowlist = [],
    timeoutMs = 3000,
    maxBytes = 1024 * 1024,
    maxRedirects = 3,
    cacheEntries = 200,
    cacheBytes = 16 * 1024 * 1024,
    maxCacheSeconds = 3600,
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

  const remember = (entry: CacheEntry) => cache.set(entry.url, entry, entry.bytes);

  return async function fetchSchema(rawUrl: string): Promise<FetchedSchema> {
    const original = rawUrl.split("#")[0] ?? rawUrl;
    let url = checked(original, original);
    const key = url.href;
    const cached = cache.get(key);
    if (cached && cached.freshUntil > now()) return cached;

    const signal = AbortSignal.timeout(timeoutMs);
    try {
      for (let redirects = 0; ; redirects++) {
        const revalidate = cached && url.href === key && cached.etag;
        const response = await fetchImpl(url.href, {
          redirect: "manual",
          signal,
          headers: {
            Accept: "application/schema+json, application/json;q=0.9, */*;q=0.1",
            ...(revalidate ? { "If-None-Match": cached.etag } : {}),
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
        const freshUntil =
          now() + freshnessSeconds(response.headers.get("Cache-Control"), maxCacheSeconds) * 1000;
        if (response.status === 304 && cached) {
          const refreshed = { ...cached, freshUntil };
          remember(refreshed);
          return refreshed;
        }
        if (!response.ok) {
          await response.body?.cancel();
          throw new SchemaFetchError("http_error", original, `${url.href} answered HTTP ${response.status}`);
        }
        const text = await readCapped(response, original, maxBytes);
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          throw new SchemaFetchError("not_json", original, `${url.href} did not return JSON`);
        }
        const etag = response.headers.get("ETag") ?? undefined;
        const entry: CacheEntry = {
          url: key,
          body,
          etag,
          version: etag ? `etag:${etag}` : `sha256:${await sha256Hex(text)}`,
          freshUntil,
          bytes: text.length,
        };
        if (etag || freshUntil > now()) remember(entry);
        return entry;
      }
    } catch (error) {
      if (error instanceof SchemaFetchError) throw error;
      if (signal.aborted)
        throw new SchemaFetchError("timeout", original, `${original} did not answer within ${timeoutMs} ms`);
      throw new SchemaFetchError("network_error", original, `${original} could not be fetched`);
    }
  };
}

export type SchemaFetcher = ReturnType<typeof createSchemaFetcher>;
