import type { Check, Node } from "./context";

// Most subschemas of a schema are leaves (`{"type": "string", "format": "uuid"}`) and the same few
// recur across the schemas one isolate compiles; the metaschema check of each one walks the seven
// vocabulary metaschemas of 2020-12 again. Against a standard metaschema the verdict of the root
// (every subschema is checked through it: `$dynamicRef: "#meta"`, `$recursiveRef: "#"`,
// `$ref: "#"`, whose outermost dynamic scope is always that root) is a function of the leaf's JSON
// alone, so a leaf's verdict and the units it took are remembered by its JSON text and replayed.

/** Leaves remembered per metaschema, and the longest JSON text remembered: about 1 MB at most. */
const MAX_LEAVES = 2_000;
const MAX_LEAF_CHARS = 256;
/** Levels below a leaf its check can descend to: its members, then the items of an array member. */
const LEAF_DEPTH = 2;

interface Verdict {
  valid: boolean;
  steps: number;
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
  const verdicts = new Map<string, Verdict>();
  node.validate = (instance, context) => {
    if (context.track || typeof instance !== "object" || instance === null) return check(instance, context);
    const key = leafText(instance);
    if (key === undefined) return check(instance, context);
    const known = verdicts.get(key);
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
    if (known === undefined && verdicts.size < MAX_LEAVES)
      verdicts.set(key, { valid, steps: context.steps - before });
    return valid;
  };
}

/**
 * The JSON text of a plain object whose members are all JSON primitives or arrays of them, which
 * tells two such objects apart exactly as the metaschema can (no -0, NaN, holes or accessors of
 * other prototypes); undefined for any other value or a longer text.
 */
function leafText(value: object): string | undefined {
  if (Array.isArray(value) || Object.getPrototypeOf(value) !== Object.prototype) return undefined;
  const object = value as Record<string, unknown>;
  for (const key in object) {
    const member = object[key];
    if (Array.isArray(member)) {
      for (let i = 0; i < member.length; i++) if (!isPrimitive(member[i])) return undefined;
    } else if (!isPrimitive(member)) return undefined;
  }
  const text = JSON.stringify(object);
  return text.length <= MAX_LEAF_CHARS ? text : undefined;
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
