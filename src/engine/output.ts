/** One error, as in JSON Schema 2020-12 §12.3 (output units of the basic and detailed formats). */
export interface OutputUnit {
  valid: false;
  /** Evaluation path through the schema, including `$ref`s followed, as a JSON Pointer. */
  keywordLocation: string;
  /** Absolute URI of the keyword (schema resource URI + JSON Pointer fragment). */
  absoluteKeywordLocation: string;
  /** JSON Pointer to the failing part of the document. */
  instanceLocation: string;
  /** A readable English message. */
  error: string;
  /** Nested errors (detailed format only). */
  errors?: OutputUnit[];
}

/** Internal: a unit plus whether it only groups the errors of its subschemas. */
export interface RawUnit extends OutputUnit {
  wrapper?: boolean;
  errors?: RawUnit[];
}

function strip(u: RawUnit, children?: OutputUnit[]): OutputUnit {
  const out: OutputUnit = {
    valid: false,
    keywordLocation: u.keywordLocation,
    absoluteKeywordLocation: u.absoluteKeywordLocation,
    instanceLocation: u.instanceLocation,
    error: u.error,
  };
  if (children && children.length > 0) out.errors = children;
  return out;
}

/** Basic format: a flat list. Units that merely group their subschemas' errors are left out. */
export function toBasic(units: RawUnit[], limit: number): OutputUnit[] {
  const out: OutputUnit[] = [];
  const walk = (list: RawUnit[]): void => {
    for (const u of list) {
      if (out.length >= limit) return;
      if (!u.wrapper) out.push(strip(u));
      if (u.errors) walk(u.errors);
    }
  };
  walk(units);
  return out;
}

/** Detailed format: the hierarchy of the evaluation, applicators with a single child collapsed. */
export function toDetailed(units: RawUnit[]): OutputUnit[] {
  const conv = (u: RawUnit): OutputUnit => {
    const kids = u.errors ? u.errors.map(conv) : undefined;
    if (u.wrapper && kids && kids.length === 1) return kids[0] as OutputUnit;
    return strip(u, kids);
  };
  return units.map(conv);
}

/** Number of leaf errors in a raw tree. */
export function countLeaves(units: RawUnit[]): number {
  let n = 0;
  for (const u of units) n += u.errors && u.errors.length > 0 ? countLeaves(u.errors) : 1;
  return n;
}
