import { isDateAt } from "./date";
import type { FormatDefinition } from "./format";
import { isTimeFrom } from "./time";

function isDateTime(s: string): boolean {
  const t = s.charCodeAt(10);
  if (t !== 84 && t !== 116) return false;
  return isDateAt(s, 0) && isTimeFrom(s, 11);
}

const pad = (n: number, w = 2): string => String(n).padStart(w, "0");

/** A valid date-time in UTC with `Z` (a leap second stays :60), fractions kept. */
function toUtc(s: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/.exec(
    s,
  );
  if (!m) return s;
  const sec = Number(m[6]);
  const offset = m[8] ? (m[8] === "-" ? -1 : 1) * (Number(m[9]) * 60 + Number(m[10])) : 0;
  const t = Date.UTC(
    Number(m[1]),
    Number(m[2]) - 1,
    Number(m[3]),
    Number(m[4]),
    Number(m[5]) - offset,
    Math.min(sec, 59),
  );
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) return s;
  const y = d.getUTCFullYear();
  return `${pad(y, 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(sec === 60 ? 60 : d.getUTCSeconds())}${m[7] ?? ""}Z`;
}

/** `date-time`: RFC 3339; normalised to UTC. */
export const dateTime: FormatDefinition = { check: isDateTime, normalize: toUtc };
