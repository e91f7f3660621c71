import type { FormatDefinition } from "./format";

const DAYS = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const isLeap = (y: number): boolean => y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);

/** Reads `n` ASCII digits at `i` as a number, or -1. */
export function readDigits(s: string, i: number, n: number): number {
  let v = 0;
  for (let k = i; k < i + n; k++) {
    const c = s.charCodeAt(k) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/** RFC 3339 full-date, with the month's real length. */
export function isDate(s: string): boolean {
  return s.length === 10 && isDateAt(s, 0);
}

/** Whether the ten characters of `s` from `at` are a full-date (`s` is read in place, not cut). */
export function isDateAt(s: string, at: number): boolean {
  if (s.length < at + 10 || s.charCodeAt(at + 4) !== 45 || s.charCodeAt(at + 7) !== 45) return false;
  const y = readDigits(s, at, 4);
  const mo = readDigits(s, at + 5, 2);
  const d = readDigits(s, at + 8, 2);
  if (y < 0 || mo < 1 || mo > 12 || d < 1) return false;
  return d <= (mo === 2 && isLeap(y) ? 29 : (DAYS[mo] as number));
}

/** `date`. */
export const date: FormatDefinition = { check: isDate };
