/**
 * Stripe's v1 idempotency layer (API reference: idempotent requests): the status and body of the
 * first request with a key are saved once the endpoint starts executing and replayed for any retry
 * with that key, 500s included; a key reused with other parameters or on another endpoint is a 400
 * `idempotency_error`; keys may be pruned once they are 24 hours old. Only POSTs carry keys.
 */
import { StripeApiError } from "./errors";

export interface SavedResponse {
  status: number;
  body: string;
  headers: Record<string, string>;
  requestId: string;
}

interface Entry {
  method: string;
  path: string;
  params: string;
  savedAt: number;
  response: SavedResponse;
}

const KEY_LIFETIME_MS = 24 * 60 * 60 * 1000;

export class IdempotencyStore {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly nowMs: () => number) {}

  /** The saved response to replay, or undefined when the request must run. */
  replay(key: string, method: string, path: string, params: string): SavedResponse | undefined {
    this.prune();
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.method !== method || entry.path !== path) {
      throw new StripeApiError(
        400,
        "idempotency_error",
        `Keys for idempotent requests can only be used for the same endpoint they were first used for ('${entry.method} ${entry.path}' vs '${method} ${path}'). Try using a key other than '${key}' if you meant to execute a different request.`,
        { savedForIdempotency: false },
      );
    }
    if (entry.params !== params) {
      throw new StripeApiError(
        400,
        "idempotency_error",
        `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
        { savedForIdempotency: false },
      );
    }
    return entry.response;
  }

  save(key: string, method: string, path: string, params: string, response: SavedResponse): void {
    this.entries.set(key, { method, path, params, savedAt: this.nowMs(), response });
  }

  clear(): void {
    this.entries.clear();
  }

  private prune(): void {
    const cutoff = this.nowMs() - KEY_LIFETIME_MS;
    for (const [key, entry] of this.entries) if (entry.savedAt <= cutoff) this.entries.delete(key);
  }
}
