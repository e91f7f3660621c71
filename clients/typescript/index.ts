/**
 * A typed client of the Schema Meter API: openapi-fetch over the types generated from
 * /openapi.json (./generated/api-types.ts), with a fetch that authenticates every call and waits
 * out `Retry-After` on 429 and 503 (neither is billed, so a retry never costs twice).
 *
 *   const meter = createSchemaMeterClient({ baseUrl, credentials: { apiKey } });
 *   const { data, error } = await meter.api.POST("/v1/validate", { body: { schema, data: doc } });
 */
import createClient, { type Client } from "openapi-fetch";
import type { components, paths } from "./generated/api-types";

export type { components, paths };
export type Problem = components["schemas"]["Problem"];

/** How calls are authenticated. */
export type Credentials =
  /** Exchange the API key for a token at POST /v1/token, renewed before it expires (the default). */
  | { apiKey: string; sendApiKey?: false }
  /** Send the API key itself on every call, for deployments whose routes accept it. */
  | { apiKey: string; sendApiKey: true }
  /** A token obtained elsewhere, sent as is. */
  | { token: string };

export interface SchemaMeterClientOptions {
  /** The API's origin, e.g. `https://api.example.com`. */
  baseUrl: string;
  /** None: only unauthenticated routes (sign-up, docs) can be called. */
  credentials?: Credentials;
  /** Retries of a 429 or 503 that carries Retry-After. @default 3 */
  maxRetries?: number;
  /** A longer Retry-After is not waited for: the 429/503 is returned. @default 30000 */
  maxRetryDelayMs?: number;
  /** Time limit of each attempt. @default 10000 */
  timeoutMs?: number;
  /** Called before each wait, e.g. to log it. */
  onRetry?: (retry: { url: string; status: number; delayMs: number; attempt: number }) => void;
  fetch?: typeof fetch;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface SchemaMeterClient {
  /** The typed API: `api.POST("/v1/validate", { body })` answers `{ data }` or `{ error }` (a Problem). */
  api: Client<paths>;
  /** The credential the next call sends (exchanging or renewing the token when needed). */
  credential(): Promise<string | undefined>;
}

/** Routes that take no credential. */
const UNAUTHENTICATED = new Set(["/v1/signup", "/", "/openapi.json", "/health", "/.well-known/jwks.json"]);
/** A token is renewed this long before it expires. */
const RENEW_BEFORE_MS = 60_000;
/** Codes after which a fresh token may succeed. */
const TOKEN_REFUSALS = new Set(["TOKEN_EXPIRED", "TOKEN_REVOKED", "TOKEN_INVALID"]);

/** Retry-After as delta-seconds or an HTTP date, in ms from now; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now: number): number | undefined {
  if (header === null) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export function createSchemaMeterClient(options: SchemaMeterClientOptions): SchemaMeterClient {
  const {
    credentials,
    maxRetries = 3,
    maxRetryDelayMs = 30_000,
    timeoutMs = 10_000,
    fetch: fetchImpl = globalThis.fetch,
    now = Date.now,
    sleep = (ms) => new Promise((done) => setTimeout(done, ms)),
  } = options;
  const baseUrl = options.baseUrl.replace(/\/+$/, "");
  let token: { value: string; renewAt: number } | undefined;
  let exchanging: Promise<string | Response> | undefined;

  /** One request, retried while it is answered 429/503 with a Retry-After short enough to wait. */
  async function withRetries(request: Request): Promise<Response> {
    for (let attempt = 1; ; attempt++) {
      const response = await fetchImpl(request.clone(), {
        signal: AbortSignal.any([request.signal, AbortSignal.timeout(timeoutMs)]),
      });
      if ((response.status !== 429 && response.status !== 503) || attempt > maxRetries) return response;
      const delayMs = retryAfterMs(response.headers.get("Retry-After"), now());
      if (delayMs === undefined || delayMs > maxRetryDelayMs) return response;
      await response.body?.cancel();
      options.onRetry?.({ url: request.url, status: response.status, delayMs, attempt });
      await sleep(delayMs);
    }
  }

  /** A current token, or the token endpoint's refusal (returned to the caller as the answer). */
  async function currentToken(apiKey: string): Promise<string | Response> {
    if (token && now() < token.renewAt) return token.value;
    exchanging ??= (async () => {
      const response = await withRetries(
        new Request(`${baseUrl}/v1/token`, {
          method: "POST",
          headers: { Authorization: `Bearer ${apiKey}` },
        }),
      );
      if (!response.ok) return response;
      const body = (await response.json()) as { token: string; expires_at: string; expires_in: number };
      const expiresAt = now() + body.expires_in * 1000;
      token = {
        value: body.token,
        renewAt: expiresAt - Math.min(RENEW_BEFORE_MS, (body.expires_in * 1000) / 2),
      };
      return body.token;
    })().finally(() => {
      exchanging = undefined;
    });
    return exchanging;
  }

  async function credentialFor(path: string): Promise<string | Response | undefined> {
    if (!credentials || UNAUTHENTICATED.has(path) || path.startsWith("/docs")) return undefined;
    if ("token" in credentials) return credentials.token;
    if (credentials.sendApiKey || path === "/v1/token") return credentials.apiKey;
    return currentToken(credentials.apiKey);
  }

  async function send(request: Request, renewed = false): Promise<Response> {
    const path = new URL(request.url).pathname;
    const credential = await credentialFor(path);
    if (credential instanceof Response) return credential;
    // A copy, so that `request` (and its body) can be sent again after a token renewal.
    const authenticated = new Request(request.clone());
    if (credential && !request.headers.has("Authorization")) {
      authenticated.headers.set("Authorization", `Bearer ${credential}`);
    }
    const response = await withRetries(authenticated);
    // A token revoked or expired early (clock skew): renew once and try again.
    if (
      response.status === 401 &&
      !renewed &&
      credentials &&
      "apiKey" in credentials &&
      !credentials.sendApiKey
    ) {
      const problem = (await response
        .clone()
        .json()
        .catch(() => ({}))) as { code?: string };
      if (problem.code && TOKEN_REFUSALS.has(problem.code) && path !== "/v1/token") {
        token = undefined;
        return send(request, true);
      }
    }
    return response;
  }

  return {
    api: createClient<paths>({ baseUrl, fetch: (request) => send(request) }),
    async credential() {
      const credential = await credentialFor("/v1/validate");
      return typeof credential === "string" ? credential : undefined;
    },
  };
}
