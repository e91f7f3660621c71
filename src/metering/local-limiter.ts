/**
 * A per-isolate sliding-window log, used only while Redis is unreachable: fail-open must not mean
 * unlimited. It sees one isolate's traffic, so across the fleet it is looser than the Redis limit.
 */
export class LocalWindowLimiter {
  private readonly windows = new Map<string, number[]>();

  /** @param maxSubjects subjects remembered at once (oldest forgotten first). Default 10 000. */
  constructor(private readonly maxSubjects = 10_000) {}

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
