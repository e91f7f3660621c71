/**
 * A per-isolate sliding-window log, used only while Redis is unreachable: fail-open must not mean
 * unlimited. It sees one isolate's traffic, so across the fleet it is looser than the Redis limit.
 *
 * It also remembers, per subject, what Redis last said was left of the window (`noteRedisWindow`,
 * O(1) per live call), so that a fallback spends only that remainder and the two windows do not
 * add up: on one isolate, live and fallback admissions together stay within the tier's limit.
 */
export class LocalWindowLimiter {
  private readonly windows = new Map<string, number[]>();
  private readonly redisWindows = new Map<
    string,
    { remaining: number; resetAtMs: number; endAtMs: number }
  >();

  /** @param maxSubjects subjects remembered at once (oldest forgotten first). Default 10 000. */
  constructor(private readonly maxSubjects = 10_000) {}

  /**
   * What Redis answered for `subject` at `nowMs`: `remaining` admissions left in its sliding window
   * of `windowMs`, whose oldest entry leaves it `resetMs` from now.
   */
  noteRedisWindow(
    subject: string,
    remaining: number,
    resetMs: number,
    nowMs: number,
    windowMs: number,
  ): void {
    this.redisWindows.delete(subject);
    this.redisWindows.set(subject, { remaining, resetAtMs: nowMs + resetMs, endAtMs: nowMs + windowMs });
    if (this.redisWindows.size > this.maxSubjects) {
      const oldest = this.redisWindows.keys().next().value;
      if (oldest !== undefined) this.redisWindows.delete(oldest);
    }
  }

  /**
   * The fallback's share of `limit` for `subject` at `nowMs`: what Redis last said was left; once
   * the oldest entry it counted has left the window, one more (the others leave at times Redis did
   * not say, so no more can be assumed free); once every entry it counted has left, the whole limit.
   * (Granting the whole limit at the first reset let a fallback serve 7 in a window of 5: issue 15's
   * fault suite, admission under latency.)
   */
  allowance(subject: string, limit: number, nowMs: number): number {
    const known = this.redisWindows.get(subject);
    if (!known || nowMs >= known.endAtMs) return limit;
    return Math.min(limit, known.remaining + (nowMs >= known.resetAtMs ? 1 : 0));
  }

  /** Records an admission if under `limit` in the window ending at `nowMs`. */
  admit(subject: string, limit: number, windowMs: number, nowMs: number) {
    const recent = (this.windows.get(subject) ?? []).filter((at) => at > nowMs - windowMs);
    const allowed = recent.length < limit;
    if (allowed) recent.push(nowMs);
    this.windows.delete(subject);
    this.windows.set(subject, recent);
    if (this.windows.size > this.maxSubjects) {
      const oldest = this.windows.keys().next().value;
      if (oldest !== undefined) this.windows.delete(oldest);
    }
    const first = recent[0];
    return {
      allowed,
      remaining: Math.max(0, limit - recent.length),
      resetMs: first === undefined ? windowMs : first + windowMs - nowMs,
    };
  }
}
