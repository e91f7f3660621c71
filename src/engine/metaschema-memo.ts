import type { Check, Node } from "./context";

// Most subschemas of a schema are small (`{"type": "string", "format": "uuid"}`, a record of a few
// such properties) and the same few recur across the schemas one isolate compiles; the metaschema
// check of each one walks the seven vocabulary metaschemas of 2020-12 again. Against a standard
// metaschema the verdict of the root (every subschema is checked through it: `$dynamicRef:
// "#meta"`, `$recursiveRef: "#"`, `$ref: "#"`, whose outermost dynamic scope is always that root)
// is a function of the subschema's JSON alone, so the verdict of a small subschema and the units
// it took are remembered and replayed, its own subschemas then not checked at all. A subschema is
// found by a hash of its JSON, then compared value by value with the one remembered (its JSON text
// as the key cost more than the check it saves: 1 us a leaf here); a few are kept a hash, so that
// colliding subschemas (12,000 patterns alike but for a number) cost a few comparisons each.

/** Subschemas remembered per metaschema; the most values, characters and levels of one. */
const MAX_REMEMBERED = 2_000;
const MAX_VALUES = 96;
const MAX_CHARS = 512;
const MAX_LEVELS = 8;
/** Subschemas remembered under one hash: a lookup compares with at most this many, whatever collides. */
const MAX_SAME_HASH = 4;

interface Verdict {
  /** The subschema as remembered (stored()). */
  json: unknown;
  /** Levels of values below the subschema: the most its check can descend. */
  levels: number;
  valid: boolean;
  steps: number;
  /** The next subschema of the same hash. */
  next: Verdict | undefined;
}

/**
 * Remembers the flag verdicts of small subschemas checked by a standard metaschema's root `node`.
 * A verdict is replayed only where running the check could neither reach a budget check (its
 * units stay under the context's next one, so the run would not have called `tick`) nor the depth
 * limit: the replay then leaves the context as the run would have. Error-collecting and annotating
 * validations (`track`) always run.
 */
export function memoiseSubschemaVerdicts(node: Node): void {
  const check: Check = node.validate;
  const verdicts = new Map<number, Verdict>();
  let remembered = 0;
  node.validate = (instance, context) => {
    if (context.track || !isPlainObject(instance)) return check(instance, context);
    const hash = hashOf(instance);
    if (hash === undefined) return check(instance, context);
    const levels = walk.levels;
    const first = verdicts.get(hash);
    let known = first;
    let compared = 0;
    while (known !== undefined && !sameJson(known.json, instance)) {
      known = known.next;
      compared++;
    }
    if (
      known !== undefined &&
      context.steps + known.steps <= context.nextCheck &&
      context.depth + known.levels <= context.maxDepth
    ) {
      context.steps += known.steps;
      return known.valid;
    }
    const before = context.steps;
    const valid = check(instance, context);
    if (known === undefined && compared < MAX_SAME_HASH) {
      // Full, it starts again: what recent schemas use stays remembered.
      let next = first;
      if (remembered >= MAX_REMEMBERED) {
        verdicts.clear();
        remembered = 0;
        next = undefined;
      }
      const json = stored(instance);
      verdicts.set(hash, { json, levels, valid, steps: context.steps - before, next });
      remembered++;
    }
    return valid;
  };
}

/** What hashOf counted of the value it last hashed (it calls nothing that could hash again). */
const walk = { values: 0, chars: 0, levels: 0, over: false };

/**
 * A hash of a value made of JSON primitives (no -0 or NaN: `===` then tells two apart exactly as
 * the metaschema can), arrays without holes and plain objects, within the sizes remembered;
 * undefined for any other. Sets `walk.levels`.
 */
function hashOf(value: object): number | undefined {
  walk.values = 0;
  walk.chars = 0;
  walk.levels = 0;
  walk.over = false;
  const hash = mixValue(0x811c9dc5, value, 0);
  return walk.over ? undefined : hash;
}

function mixValue(hash: number, value: unknown, level: number): number {
  if (walk.over) return hash;
  if (++walk.values > MAX_VALUES) walk.over = true;
  switch (typeof value) {
    case "string":
      // Counted before it is hashed: a long string is not walked at all.
      walk.chars += value.length;
      if (walk.chars > MAX_CHARS) {
        walk.over = true;
        return hash;
      }
      return mixString(hash, value);
    case "number":
      if (!Number.isFinite(value) || Object.is(value, -0)) walk.over = true;
      return mix(hash, (value * 0x3fff) | 0);
    case "boolean":
      return mix(hash, value ? 1 : 2);
    case "object":
      break;
    default:
      walk.over = true;
      return hash;
  }
  if (value === null) return mix(hash, 3);
  if (level >= MAX_LEVELS) {
    walk.over = true;
    return hash;
  }
  if (level + 1 > walk.levels) walk.levels = level + 1;
  if (Array.isArray(value)) {
    if (Object.getPrototypeOf(value) !== Array.prototype) walk.over = true;
    let h = mix(hash, value.length + 0x9e37);
    for (let i = 0; i < value.length && !walk.over; i++) {
      if (!(i in value)) walk.over = true;
      h = mixValue(h, value[i], level + 1);
    }
    return h;
  }
  if (!isPlainObject(value)) {
    walk.over = true;
    return hash;
  }
  let h = mix(hash, 0x7f4a);
  const object = value as Record<string, unknown>;
  for (const key in object) {
    walk.chars += key.length;
    if (walk.chars > MAX_CHARS) {
      walk.over = true;
      break;
    }
    h = mixValue(mixString(h, key), object[key], level + 1);
    if (walk.over) break;
  }
  return h;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    Object.getPrototypeOf(value) === Object.prototype
  );
}

function mix(hash: number, n: number): number {
  return Math.imul(hash ^ n, 0x01000193);
}

function mixString(hash: number, text: string): number {
  let h = mix(hash, text.length);
  for (let i = 0; i < text.length; i++) h = mix(h, text.charCodeAt(i));
  return h;
}

/** A remembered object: its member names and values in order. */
class StoredObject {
  constructor(readonly members: unknown[]) {}
}

/** A remembered array. */
class StoredArray {
  constructor(readonly items: unknown[]) {}
}

/** A copy of a value hashOf accepted, as sameJson compares it. */
function stored(value: unknown): unknown {
  if (Array.isArray(value)) return new StoredArray(value.map(stored));
  if (typeof value !== "object" || value === null) return value;
  const members: unknown[] = [];
  const object = value as Record<string, unknown>;
  for (const key in object) members.push(key, stored(object[key]));
  return new StoredObject(members);
}

/** Whether `value` (hashOf accepted it) is the remembered `json`, member order included. */
function sameJson(json: unknown, value: unknown): boolean {
  if (json instanceof StoredArray) {
    if (!Array.isArray(value) || value.length !== json.items.length) return false;
    for (let i = 0; i < value.length; i++) if (!sameJson(json.items[i], value[i])) return false;
    return true;
  }
  if (json instanceof StoredObject) {
    if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
    const members = json.members;
    const object = value as Record<string, unknown>;
    let i = 0;
    for (const key in object) {
      if (i >= members.length || members[i] !== key || !sameJson(members[i + 1], object[key])) return false;
      i += 2;
    }
    return i === members.length;
  }
  return json === value;
}
