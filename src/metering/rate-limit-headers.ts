/**
 * IETF httpapi RateLimit header fields (draft-ietf-httpapi-ratelimit-headers-10), Structured Field
 * syntax: `RateLimit-Policy: "pro";q=100;w=10` (quota q per window w seconds) and
 * `RateLimit: "pro";r=57;t=3` (r units remaining, t seconds until the quota resets), plus
 * `;cost=n` when the call counted n ≠ 1 units (a batch counts its documents).
 */

export interface RateLimitState {
  /** The policy name: the tier in force (after any override). */
  policy: string;
  limit: number;
  windowSeconds: number;
  /** Unknown when Redis could not be asked and no local estimate exists. */
  remaining?: number;
  resetSeconds?: number;
  /** Units this call counted against the window (its billed units, at least 1). Default 1. */
  cost?: number;
}

/** An sf-string: quoted, with `\` and `"` escaped; tier names are plain ASCII already. */
function sfString(value: string): string {
  return `"${value.replace(/[\\"]/g, (char) => `\\${char}`)}"`;
}

/** The headers for a protected response; RateLimit is left out when the live state is unknown. */
export function rateLimitHeaders(state: RateLimitState): Record<string, string> {
  const name = sfString(state.policy);
  const headers: Record<string, string> = {
    "RateLimit-Policy": `${name};q=${state.limit};w=${state.windowSeconds}`,
  };
  if (state.remaining !== undefined && state.resetSeconds !== undefined) {
    // `cost` is an extension parameter (unknown ones are ignored by the draft): present when not 1.
    const cost = state.cost !== undefined && state.cost !== 1 ? `;cost=${state.cost}` : "";
    headers.RateLimit = `${name};r=${Math.max(0, state.remaining)};t=${Math.max(0, state.resetSeconds)}${cost}`;
  }
  return headers;
}

/** Whole seconds to wait, rounded up so a client that waits exactly this long is admitted. At least 1. */
export function secondsFromMs(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}
