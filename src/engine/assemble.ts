import { type Check, type EvaluatedRecord, mergeEvaluated, type ValidationContext } from "./context";
import type { InstanceKind, KeywordDefinition } from "./keyword";
import type { SchemaTarget } from "./registry";

// How one subschema's compiled keyword checks become its node's check: the `type` keyword folded
// into a dispatch on the instance's JSON type, the others composed in evaluation order, and the
// compilation's extras (annotations, evaluation records, dynamic scope) wrapped around.

/** A keyword's compiled check, with what the assembly needs to know about it. */
export interface CompiledKeyword {
  definition: KeywordDefinition;
  instance: InstanceKind;
  check: Check;
  /** Set on the `type` keyword: the allowed types as TYPE_BITS. */
  typeMask?: number;
  late?: boolean;
}

/** What the assembly needs to know of the whole compilation. */
export interface Compilation {
  readonly tracksEvaluation: boolean;
  readonly usesDynamicScope: boolean;
}

/** The pairs composed for one node, made on the first (most leaves compose none). */
interface ComposeCache {
  pairs: Map<Check, Map<Check, Check>> | null;
}

/** One check running `a` then `b`: stops at the first failure unless collecting all errors.
 * Identical pairs give the identical function, so identical lists compose to one function and a
 * node whose checks do not depend on the instance type can skip the type dispatch. */
function pair(a: Check, b: Check, cache: ComposeCache): Check {
  cache.pairs ??= new Map();
  let byB = cache.pairs.get(a);
  const hit = byB?.get(b);
  if (hit) return hit;
  const c: Check = (instance, context) => {
    if (a(instance, context)) return b(instance, context);
    if (context.full) b(instance, context);
    return false;
  };
  if (!byB) {
    byB = new Map();
    cache.pairs.set(a, byB);
  }
  byB.set(b, c);
  return c;
}

/** `head`, then `first`, then `then` (each optional) composed in that order; null when none. */
function compose(
  cache: ComposeCache,
  head: Check | null,
  first: readonly Check[],
  then: readonly Check[] | null,
): Check | null {
  let c: Check | null = null;
  if (then !== null) for (let i = then.length - 1; i >= 0; i--) c = link(then[i] as Check, c, cache);
  for (let i = first.length - 1; i >= 0; i--) c = link(first[i] as Check, c, cache);
  return head === null ? c : link(head, c, cache);
}

function link(a: Check, rest: Check | null, cache: ComposeCache): Check {
  return rest === null ? a : pair(a, rest, cache);
}

export function assemble(
  target: SchemaTarget,
  keywords: CompiledKeyword[],
  annotations: Check[],
  compilation: Compilation,
): Check {
  // No checks (annotations only, or `format` not asserted): nothing to dispatch on.
  if (keywords.length === 0) return wrap(target, () => true, annotations, compilation);
  const ordered = keywords.some((k) => k.late)
    ? [...keywords.filter((k) => !k.late), ...keywords.filter((k) => k.late)]
    : keywords;
  // The first keyword with a type mask (`type`) becomes the dispatch; the others go by the
  // instance type they apply to, in evaluation order.
  let typeCheck: Check | null = null;
  let mask = 0x7f;
  const forAny: Check[] = [];
  const byKind: Record<Exclude<InstanceKind, "any">, Check[] | null> = {
    string: null,
    number: null,
    object: null,
    array: null,
  };
  for (const k of ordered) {
    if (typeCheck === null && k.typeMask !== undefined) {
      typeCheck = k.check;
      mask = k.typeMask;
    } else if (k.instance === "any") forAny.push(k.check);
    else {
      const list = byKind[k.instance];
      if (list === null) byKind[k.instance] = [k.check];
      else list.push(k.check);
    }
  }
  // The `type` keyword is folded into the dispatch on the instance's JSON type: where the type is
  // allowed it costs nothing, where it is not only the failure (and, in full mode, the rest) runs.
  const cache: ComposeCache = { pairs: null };
  const forKind = (bit: number, kindChecks: Check[] | null, integerOnly = false): Check | null => {
    if ((mask & bit) === 0 && !(integerOnly && (mask & 64) !== 0)) {
      return compose(cache, typeCheck, forAny, null);
    }
    if (integerOnly && (mask & 16) === 0) return compose(cache, typeCheck, forAny, kindChecks);
    return compose(cache, null, forAny, kindChecks);
  };
  const forString = forKind(32, byKind.string);
  const forNumber = forKind(16, byKind.number, true);
  const forObject = forKind(4, byKind.object);
  const forArray = forKind(8, byKind.array);
  const forBoolean = forKind(2, null);
  const forNull = forKind(1, null);
  let validate: Check;
  if (
    forString === forNumber &&
    forNumber === forObject &&
    forObject === forArray &&
    forArray === forBoolean &&
    forBoolean === forNull
  ) {
    validate = forString ?? (() => true);
  } else if (singleType(mask, forString, forNumber, forObject, forArray, forBoolean, forNull)) {
    if (mask === 32 && annotations.length > 0) {
      // A string schema with annotations (`format` not asserted, `default`, ...): they run in the
      // closure of the type test, which flag mode passes straight through.
      return wrap(target, annotatedStringCheck(forString, forNull as Check, annotations), [], compilation);
    }
    const own =
      mask === 32
        ? forString
        : mask === 16
          ? forNumber
          : mask === 4
            ? forObject
            : mask === 8
              ? forArray
              : forBoolean;
    validate = oneTypeCheck(mask, own, forNull as Check);
  } else {
    validate = (instance, context) => {
      let f: Check | null;
      switch (typeof instance) {
        case "string":
          f = forString;
          break;
        case "number":
          f = forNumber;
          break;
        case "boolean":
          f = forBoolean;
          break;
        default:
          f = instance === null ? forNull : Array.isArray(instance) ? forArray : forObject;
      }
      return f === null ? true : f(instance, context);
    };
  }
  return wrap(target, validate, annotations, compilation);
}

/** Whether `mask` allows one JSON type (not "integer", not null) and every other type gets one same check. */
function singleType(mask: number, ...byKind: Array<Check | null>): boolean {
  const own = mask === 32 ? 0 : mask === 16 ? 1 : mask === 4 ? 2 : mask === 8 ? 3 : mask === 2 ? 4 : -1;
  if (own < 0) return false;
  let other: Check | undefined;
  for (let i = 0; i < byKind.length; i++) {
    if (i === own) continue;
    const check = byKind[i] as Check | null;
    if (check === null) return false;
    if (other === undefined) other = check;
    else if (check !== other) return false;
  }
  return true;
}

/**
 * The dispatch of a schema allowing one JSON type: that type's test written out, then its checks
 * (`own`, none when null), any other instance going to `other` (the `type` failure and the checks
 * for any instance).
 */
function oneTypeCheck(mask: number, own: Check | null, other: Check): Check {
  switch (mask) {
    case 32:
      return own === null
        ? (instance, context) => typeof instance === "string" || other(instance, context)
        : (instance, context) =>
            typeof instance === "string" ? own(instance, context) : other(instance, context);
    case 16:
      return own === null
        ? (instance, context) => typeof instance === "number" || other(instance, context)
        : (instance, context) =>
            typeof instance === "number" ? own(instance, context) : other(instance, context);
    case 2:
      return own === null
        ? (instance, context) => typeof instance === "boolean" || other(instance, context)
        : (instance, context) =>
            typeof instance === "boolean" ? own(instance, context) : other(instance, context);
    case 8:
      return own === null
        ? (instance, context) => Array.isArray(instance) || other(instance, context)
        : (instance, context) =>
            Array.isArray(instance) ? own(instance, context) : other(instance, context);
    default:
      return own === null
        ? (instance, context) => isRecord(instance) || other(instance, context)
        : (instance, context) => (isRecord(instance) ? own(instance, context) : other(instance, context));
  }
}

/** oneTypeCheck for strings with the annotations `wrap` would add (run on valid strings when annotating). */
function annotatedStringCheck(own: Check | null, other: Check, annotations: Check[]): Check {
  return own === null
    ? (instance, context) =>
        typeof instance === "string"
          ? !context.annotate || annotate(annotations, instance, context)
          : other(instance, context)
    : (instance, context) =>
        typeof instance === "string"
          ? own(instance, context) && (!context.annotate || annotate(annotations, instance, context))
          : other(instance, context);
}

function annotate(annotations: Check[], instance: unknown, context: ValidationContext): true {
  for (const a of annotations) a(instance, context);
  return true;
}

const isRecord = (instance: unknown): boolean =>
  typeof instance === "object" && instance !== null && !Array.isArray(instance);

/** Adds, where the compilation needs them, annotation collection, evaluation records and scope. */
function wrap(target: SchemaTarget, validate: Check, annotations: Check[], compilation: Compilation): Check {
  let v = validate;
  if (annotations.length > 0) {
    const inner = v;
    v = (instance, context) => {
      const ok = inner(instance, context);
      if (ok && context.annotate) for (const a of annotations) a(instance, context);
      return ok;
    };
  }
  if (compilation.tracksEvaluation) {
    const inner = v;
    v = (instance, context) => {
      if (typeof instance !== "object" || instance === null) return inner(instance, context);
      const parent = context.evaluated;
      const record: EvaluatedRecord = {
        properties: null,
        allProperties: false,
        items: 0,
        allItems: false,
        itemSet: null,
      };
      context.evaluated = record;
      const ok = inner(instance, context);
      context.evaluated = parent;
      if (ok && parent) mergeEvaluated(parent, record);
      return ok;
    };
  }
  if (compilation.usesDynamicScope && target.resource.pointer === target.pointer) {
    const inner = v;
    const resource = target.resource;
    v = (instance, context) => {
      context.dynamicScope.push(resource);
      const ok = inner(instance, context);
      context.dynamicScope.pop();
      return ok;
    };
  }
  return v;
}
