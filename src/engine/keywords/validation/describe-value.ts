/** A value as JSON for an error message, cut to 60 characters. */
export function describeValue(value: unknown): string {
  const s = JSON.stringify(value);
  return s && s.length > 60 ? `${s.slice(0, 57)}...` : (s ?? String(value));
}
