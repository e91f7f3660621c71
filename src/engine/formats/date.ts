import type { FormatDefinition } from "./format";

const DAYS = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const isLeap = (y: number): boolean => y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);

/** Reads two ASCII digits at `i` as a number, or -1. Written out rather than looped: the
 * formats read every field of a date and time this way. */
export function readTwoDigits(s: string, i: number): number {
  const tens = s.charCodeAt(i) - 48;
  const units = s.charCodeAt(i + 1) - 48;
  return tens >= 0 && tens <= 9 && units >= 0 && units <= 9 ? tens * 10 + units : -1;
}

/** RFC 3339 full-date, with the month's real length. */
export function isDate(s: string): boolean {
  return s.length === 10 && isDateAt(s, 0);
}

/** Whether the ten characters of `s` from `at` are a full-date (`s` is read in place, not cut). */
export function isDateAt(s: string, at: number): boolean {
  if (s.length < at + 10 || s.charCodeAt(at + 4) !== 45 || s.charCodeAt(at + 7) !== 45) return false;
  const century = readTwoDigits(s, at);
  const yy = readTwoDigits(s, at + 2);
  const y = century < 0 || yy < 0 ? -1 : century * 100 + yy;
  const mo = readTwoDigits(s, at + 5);
  const d = readTwoDigits(s, at + 8);
  if (y < 0 || mo < 1 || mo > 12 || d < 1) return false;
  return d <= (mo === 2 && isLeap(y) ? 29 : (DAYS[mo] as number));
}

/** `date`. */
export const date: FormatDefinition = { check: isDate };
