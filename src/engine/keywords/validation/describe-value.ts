/** A value as JSON for an error message, cut to 60 characters. */
export function describeValue(value: unknown): string {
  const s = JSON.stringify(value);
  return s && s.length > 60 ? `${s.slice(0, 57)}...` : (s ?? String(value));
}

/** Most JSON characters of allowed values an error's params list (every error of the keyword repeats them). */
export const MAX_PARAM_CHARS = 1000;

/** The leading values whose JSON text fits MAX_PARAM_CHARS, and whether some were left out. */
export function listedValues(values: readonly unknown[]): { values: unknown[]; truncated: boolean } {
  const listed: unknown[] = [];
  let chars = 0;
  for (const v of values) {
    chars += (JSON.stringify(v) ?? "").length + 1;
    if (chars > MAX_PARAM_CHARS) return { values: listed, truncated: true };
    listed.push(v);
  }
  return { values: listed, truncated: false };
}
