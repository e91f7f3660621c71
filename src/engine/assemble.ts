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

type ComposeCache = Map<Check, Map<Check, Check>>;

/** One check running several in order: stops at the first failure unless collecting all errors. */
function compose(checks: Check[], composeCache: ComposeCache): Check | null {
  if (checks.length === 0) return null;
  if (checks.length === 1) return checks[0] as Check;
  const a = checks[0] as Check;
  const b = compose(checks.slice(1), composeCache) as Check;
  // Identical lists give the identical function, so a node whose checks do not depend on the
  // instance type can skip the type dispatch.
  let byB = composeCache.get(a);
  const hit = byB?.get(b);
  if (hit) return hit;
  const c: Check = (instance, context) => {
    if (a(instance, context)) return b(instance, context);
    if (context.full) b(instance, context);
    return false;
  };
  if (!byB) {
    byB = new Map();
    composeCache.set(a, byB);
  }
  byB.set(b, c);
  return c;
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
  const typeKeyword = ordered.find((k) => k.typeMask !== undefined);
  const mask = typeKeyword?.typeMask ?? 0x7f;
  const others = ordered.filter((k) => k !== typeKeyword);
  const forAny = others.filter((k) => k.instance === "any").map((k) => k.check);
  const list = (kind: InstanceKind): Check[] => others.filter((k) => k.instance === kind).map((k) => k.check);
  // The `type` keyword is folded into the dispatch on the instance's JSON type: where the type is
  // allowed it costs nothing, where it is not only the failure (and, in full mode, the rest) runs.
  const cache: ComposeCache = new Map();
  const forKind = (bit: number, kindChecks: Check[], integerOnly = false): Check | null => {
    if ((mask & bit) === 0 && !(integerOnly && (mask & 64) !== 0)) {
      return compose([(typeKeyword as CompiledKeyword).check, ...forAny], cache);
    }
    if (integerOnly && (mask & 16) === 0) {
      return compose([(typeKeyword as CompiledKeyword).check, ...forAny, ...kindChecks], cache);
    }
    return compose([...forAny, ...kindChecks], cache);
  };
  const forString = forKind(32, list("string"));
  const forNumber = forKind(16, list("number"), true);
  const forObject = forKind(4, list("object"));
  const forArray = forKind(8, list("array"));
  const forBoolean = forKind(2, []);
  const forNull = forKind(1, []);
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
    validate = oneTypeCheck(
      mask,
      { 32: forString, 16: forNumber, 4: forObject, 8: forArray, 2: forBoolean }[mask] ?? null,
      forNull as Check,
    );
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
  if (mask !== 32 && mask !== 16 && mask !== 4 && mask !== 8 && mask !== 2) return false;
  const own = { 32: 0, 16: 1, 4: 2, 8: 3, 2: 4 }[mask];
  const others = byKind.filter((_, i) => i !== own);
  return others.every((check) => check !== null && check === others[0]);
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
