import { readTwoDigits } from "./date";
import type { FormatDefinition } from "./format";

/** RFC 3339 full-time: hh:mm:ss[.frac](Z|+hh:mm|-hh:mm), leap second only at 23:59:60 UTC. */
export function isTime(s: string): boolean {
  return isTimeFrom(s, 0);
}

/** Whether `s` from `at` to its end is a full-time (`s` is read in place, not cut). */
export function isTimeFrom(s: string, at: number): boolean {
  if (s.length < at + 9 || s.charCodeAt(at + 2) !== 58 || s.charCodeAt(at + 5) !== 58) return false;
  const h = readTwoDigits(s, at);
  const mi = readTwoDigits(s, at + 3);
  const sec = readTwoDigits(s, at + 6);
  if (h < 0 || mi < 0 || sec < 0 || h > 23 || mi > 59 || sec > 60) return false;
  let i = at + 8;
  if (s.charCodeAt(i) === 46) {
    i++;
    const start = i;
    while (i < s.length && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++;
    if (i === start) return false;
  }
  let offset = 0;
  const z = s.charCodeAt(i);
  if (z === 90 || z === 122) {
    if (i + 1 !== s.length) return false;
  } else if (z === 43 || z === 45) {
    if (s.length !== i + 6 || s.charCodeAt(i + 3) !== 58) return false;
    const oh = readTwoDigits(s, i + 1);
    const om = readTwoDigits(s, i + 4);
    if (oh < 0 || om < 0 || oh > 23 || om > 59) return false;
    offset = (z === 45 ? -1 : 1) * (oh * 60 + om);
  } else return false;
  if (sec === 60) {
    const utc = (((h * 60 + mi - offset) % 1440) + 1440) % 1440;
    if (utc !== 23 * 60 + 59) return false;
  }
  return true;
}

/** `time`. */
export const time: FormatDefinition = { check: isTime };
