/** The fake's notion of "now": an injectable base clock plus an offset that tests move. */
export interface FakeClock {
  /** Milliseconds since the Unix epoch, as the fake sees it. */
  nowMs(): number;
  /** Whole seconds since the Unix epoch: the unit of every Stripe `created` and `timestamp`. */
  nowSeconds(): number;
  /** Jump to an absolute time (ms); later readings keep moving with the base clock. */
  setNow(ms: number): void;
  /** Move forward (or backward, with a negative value) by `ms`. */
  advance(ms: number): void;
  /** Forget any offset: back to the base clock. */
  reset(): void;
}

/** A clock over `base` (default `Date.now`), so real time still flows between `setNow` calls. */
export function createFakeClock(base: () => number = Date.now): FakeClock {
  let offset = 0;
  const nowMs = () => base() + offset;
  return {
    nowMs,
    nowSeconds: () => Math.floor(nowMs() / 1000),
    setNow(ms) {
      offset = ms - base();
    },
    advance(ms) {
      offset += ms;
    },
    reset() {
      offset = 0;
    },
  };
}
