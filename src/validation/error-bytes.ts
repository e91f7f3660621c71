/**
 * The byte cap on a verdict's errors (MAX_ERROR_BYTES). MAX_ERRORS bounds how many errors a verdict
 * lists, but not how large each is: a schema's pattern, a property name or a pointer can be tens of
 * kilobytes, and a hundred errors repeating it would turn a small request into megabytes. Errors are
 * kept in order, basic or detailed alike, until their JSON reaches the cap; the rest are left out
 * and the verdict says `truncated`. The first error is always kept, its long strings shortened.
 */
import type { OutputUnit, ValidationResult } from "../engine";

/** Longest string the first error keeps when it alone is over the cap. */
const SHORTENED_CHARS = 1024;

function ownBytes(unit: OutputUnit): number {
  const { errors: _children, ...own } = unit;
  return JSON.stringify(own).length;
}

function shortened(unit: OutputUnit): OutputUnit {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(unit)) {
    if (key === "errors") continue;
    out[key] =
      typeof value === "string" && value.length > SHORTENED_CHARS
        ? `${value.slice(0, SHORTENED_CHARS - 1)}…`
        : value;
  }
  return out as unknown as OutputUnit;
}

/** `result` with its errors cut to at most `maxBytes` of JSON (one shortened error at least). */
export function capErrorBytes(result: ValidationResult, maxBytes: number): ValidationResult {
  if (!result.errors || result.errors.length === 0) return result;
  let spent = 0;
  let cut = false;
  const keep = (units: OutputUnit[]): OutputUnit[] => {
    const kept: OutputUnit[] = [];
    for (const unit of units) {
      if (cut) break;
      const bytes = ownBytes(unit);
      if (spent + bytes > maxBytes) {
        cut = true;
        if (spent === 0) {
          const first = shortened(unit);
          spent += ownBytes(first);
          kept.push(first);
        }
        break;
      }
      spent += bytes;
      const children = unit.errors ? keep(unit.errors) : undefined;
      const { errors: _children, ...own } = unit;
      kept.push(children && children.length > 0 ? { ...own, errors: children } : (own as OutputUnit));
    }
    return kept;
  };
  const errors = keep(result.errors);
  return cut ? { ...result, errors, truncated: true } : result;
}
