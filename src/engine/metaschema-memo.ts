import type { Check, Node } from "./context";

// Most subschemas of a schema are leaves (`{"type": "string", "format": "uuid"}`) and the same few
// recur across the schemas one isolate compiles; the metaschema check of each one walks the seven
// vocabulary metaschemas of 2020-12 again. Against a standard metaschema the verdict of the root
// (every subschema is checked through it: `$dynamicRef: "#meta"`, `$recursiveRef: "#"`,
// `$ref: "#"`, whose outermost dynamic scope is always that root) is a function of the leaf's
// members alone, so a leaf's verdict and the units it took are remembered and replayed. A leaf is
// found by a hash of its members, then compared member by member with the one remembered (its
// JSON text as the key cost more than the check it saves: 1 us a leaf here).

/** Leaves remembered per metaschema, and the most characters and values of one: about 1 MB at most. */
const MAX_LEAVES = 2_000;
const MAX_LEAF_CHARS = 256;
const MAX_LEAF_VALUES = 64;
/** Levels below a leaf its check can descend to: its members, then the items of an array member. */
const LEAF_DEPTH = 2;

interface Verdict {
  /** The leaf's member names and values in order (an array member as a copy). */
  members: unknown[];
  valid: boolean;
  steps: number;
  /** The next leaf of the same hash. */
  next: Verdict | undefined;
}

/**
 * Remembers the flag verdicts of leaf subschemas checked by a standard metaschema's root `node`.
 * A verdict is replayed only where running the check could neither reach a budget check (its
 * units stay under the context's next one, so the run would not have called `tick`) nor the depth
 * limit: the replay then leaves the context as the run would have. Error-collecting and annotating
 * validations (`track`) always run.
 */
export function memoiseLeafVerdicts(node: Node): void {
  const check: Check = node.validate;
  const verdicts = new Map<number, Verdict>();
  let remembered = 0;
  node.validate = (instance, context) => {
    if (context.track || typeof instance !== "object" || instance === null) return check(instance, context);
    const hash = leafHash(instance);
    if (hash === undefined) return check(instance, context);
    const object = instance as Record<string, unknown>;
    const first = verdicts.get(hash);
    let known = first;
    while (known !== undefined && !sameMembers(known.members, object)) known = known.next;
    if (
      known !== undefined &&
      context.steps + known.steps <= context.nextCheck &&
      context.depth + LEAF_DEPTH <= context.maxDepth
    ) {
      context.steps += known.steps;
      return known.valid;
    }
    const before = context.steps;
    const valid = check(instance, context);
    if (known === undefined && remembered < MAX_LEAVES) {
      verdicts.set(hash, { members: membersOf(object), valid, steps: context.steps - before, next: first });
      remembered++;
    }
    return valid;
  };
}

/**
 * A hash of a plain object whose members are all JSON primitives or arrays of them (no -0, NaN,
 * holes, or other prototypes: `===` then tells two such members apart exactly as the metaschema
 * can), within the size remembered; undefined for any other value.
 */
function leafHash(value: object): number | undefined {
  if (Array.isArray(value) || Object.getPrototypeOf(value) !== Object.prototype) return undefined;
  const object = value as Record<string, unknown>;
  let hash = 0x811c9dc5;
  let chars = 0;
  let values = 0;
  for (const key in object) {
    hash = mixString(hash, key);
    chars += key.length;
    const member = object[key];
    if (Array.isArray(member)) {
      hash = mix(hash, member.length + 0x9e37);
      values += member.length;
      for (let i = 0; i < member.length; i++) {
        const item = member[i];
        if (!isPrimitive(item)) return undefined;
        hash = mixPrimitive(hash, item);
        if (typeof item === "string") chars += item.length;
      }
    } else {
      if (!isPrimitive(member)) return undefined;
      hash = mixPrimitive(hash, member);
      if (typeof member === "string") chars += member.length;
    }
    if (++values > MAX_LEAF_VALUES || chars > MAX_LEAF_CHARS) return undefined;
  }
  return hash;
}

function mix(hash: number, n: number): number {
  return Math.imul(hash ^ n, 0x01000193);
}

function mixString(hash: number, text: string): number {
  let h = mix(hash, text.length);
  for (let i = 0; i < text.length; i++) h = mix(h, text.charCodeAt(i));
  return h;
}

function mixPrimitive(hash: number, value: unknown): number {
  if (typeof value === "string") return mixString(hash, value);
  if (typeof value === "number") return mix(hash, (value * 0x3fff) | 0);
  return mix(hash, value === true ? 1 : value === false ? 2 : 3);
}

function isPrimitive(value: unknown): boolean {
  switch (typeof value) {
    case "string":
    case "boolean":
      return true;
    case "number":
      return Number.isFinite(value) && !Object.is(value, -0);
    default:
      return value === null;
  }
}

function membersOf(object: Record<string, unknown>): unknown[] {
  const members: unknown[] = [];
  for (const key in object) {
    const member = object[key];
    members.push(key, Array.isArray(member) ? [...member] : member);
  }
  return members;
}

/** Whether a leaf (leafHash gave it a hash) has exactly the `members` remembered. */
function sameMembers(members: readonly unknown[], object: Record<string, unknown>): boolean {
  let i = 0;
  for (const key in object) {
    if (members[i] !== key) return false;
    const member = object[key];
    const known = members[i + 1];
    if (Array.isArray(member)) {
      if (!Array.isArray(known) || known.length !== member.length) return false;
      for (let j = 0; j < member.length; j++) if (known[j] !== member[j]) return false;
    } else if (known !== member) return false;
    i += 2;
  }
  return i === members.length;
}
