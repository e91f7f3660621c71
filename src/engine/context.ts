import { CHARS_PER_UNIT, type WorkBudget } from "./budget";
import { ValidationLimitError } from "./errors";
import type { RawUnit } from "./output";
import type { Resource } from "./registry";
import type { ScalarRule } from "./scalar-rule";
import {
  escapePointerToken,
  PLACEHOLDER_BASE,
  PLACEHOLDER_ORIGIN,
  pointerToFragment,
  unescapePointerToken,
} from "./uri";

// The runtime plumbing every compiled keyword shares: the per-validation context, error reporting
// and the application of subschemas to child instances.
//
// Hot-path rules: flag mode returns at the first failure and allocates nothing; instance paths,
// evaluation paths and error objects exist only in the error-collecting modes; annotation tracking
// for unevaluated* is compiled in only when some schema of the compilation uses unevaluated*.

/** A compiled check: true when `instance` is valid. Errors (full mode) go to `context.errors`. */
export type Check = (instance: unknown, context: ValidationContext) => boolean;

/** A compiled (sub)schema. `validate` is assigned after creation so reference cycles resolve lazily. */
export interface Node {
  validate: Check;
  /** A scalar schema's keywords as data, which flag mode's walks check without calling `validate`. */
  scalar: ScalarRule | null;
  readonly resource: Resource;
}

/** Properties/items a schema evaluated, for unevaluatedProperties/unevaluatedItems. */
export interface EvaluatedRecord {
  properties: Set<string> | null;
  allProperties: boolean;
  /** Items 0..items-1 were evaluated (prefixItems, array-form items). */
  items: number;
  allItems: boolean;
  /** Items evaluated out of order (contains). */
  itemSet: Set<number> | null;
}

/** Where errors report the keyword: `keywordLocation = prefix + location.pointer.slice(base)`. */
export interface Frame {
  prefix: string;
  base: number;
}

/** One annotation collected for enrichment. */
export interface Annotation {
  instancePath: ReadonlyArray<string | number>;
  keyword: string;
  value: unknown;
  /** For `default` collected from `properties`: the absent property it fills. */
  property?: string;
}

/**
 * Per-validation mutable state. Created per call; compiled closures stay immutable and shareable.
 * It is the call's one WorkBudget (spending from `steps`): what pattern matchers are handed.
 */
export interface ValidationContext extends WorkBudget {
  /** Collect all errors (basic/detailed) instead of stopping at the first. */
  full: boolean;
  /** Maintain the instance path (full mode or annotation collection). */
  track: boolean;
  annotate: boolean;
  errors: RawUnit[];
  errorCount: number;
  maxErrors: number;
  /** > 0 inside anyOf/oneOf/not/if/contains, whose errors may be discarded. */
  speculative: number;
  instancePath: Array<string | number>;
  frame: Frame;
  /** The dynamic scope: resources entered, outermost first ($dynamicRef, $recursiveRef). */
  dynamicScope: Resource[];
  evaluated: EvaluatedRecord | null;
  /** Work units spent so far (the cost model: subschema evaluations, elements scanned, regex
   * steps, output units); hot paths add to it inline, everything else through `budget`. */
  steps: number;
  nextCheck: number;
  maxSteps: number;
  deadline: number;
  depth: number;
  maxDepth: number;
  annotations: Annotation[];
  /** Error units built so far (leaves and groups), against `liveErrorCap`. */
  units: number;
  /** Errors of speculative branches were dropped at `liveErrorCap`: the output is truncated. */
  errorsDropped: boolean;
}

/** The context's `spend`: a shared function, not a closure per call (one per call cost ~1 µs). */
export function spendFromContext(this: ValidationContext, units: number): void {
  spend(this, units);
}

/** Spends `units` of `context`'s budget (one subschema evaluation when called without units). */
export function spend(context: ValidationContext, units = 1): void {
  context.steps += units;
  if (context.steps > context.nextCheck) tick(context);
}

/** Spends the cost of one linear pass over a string of `length` code units (see CHARS_PER_UNIT). */
export function spendScan(context: ValidationContext, length: number): void {
  if (length >= CHARS_PER_UNIT) spend(context, Math.floor(length / CHARS_PER_UNIT));
}

/** Thrown to unwind when the error cap is reached; caught by the caller. */
export const STOP = { stop: true } as const;

/** Checks the step and time budgets; called every 1024 steps, not on every one. */
export function tick(context: ValidationContext): void {
  if (context.steps > context.maxSteps) {
    throw new ValidationLimitError(
      "budget",
      `validation exceeded its budget of ${context.maxSteps} steps`,
      context.maxSteps,
    );
  }
  if (context.deadline > 0 && performance.now() > context.deadline) {
    throw new ValidationLimitError("budget", "validation exceeded its time budget", context.deadline);
  }
  context.nextCheck = Math.min(context.steps + 1024, context.maxSteps + 1);
}

function depthExceeded(context: ValidationContext): never {
  throw new ValidationLimitError(
    "max_depth",
    `document nesting exceeds the maximum depth of ${context.maxDepth}`,
    context.maxDepth,
  );
}

/** The static location of a keyword: its pointer in the document and the resource holding it. */
export class SchemaLocation {
  private absoluteCache: string | undefined;
  constructor(
    readonly pointer: string,
    readonly resource: Resource,
    /** The keyword reported in errors ("false" for a false schema). */
    readonly keyword: string = lastToken(pointer),
  ) {}
  /**
   * The absolute keyword location, built on first use (only errors need it). A schema without an
   * absolute `$id` has no URI of its own: its locations are URI references relative to it
   * (`#/properties/id/type`, `item.json#/type` for an embedded relative `$id`), never the
   * internal placeholder base.
   */
  get absolute(): string {
    if (this.absoluteCache === undefined) {
      const fragment = pointerToFragment(this.pointer.slice(this.resource.pointer.length));
      this.absoluteCache = `${relativeToPlaceholder(this.resource.uri)}#${fragment}`;
    }
    return this.absoluteCache;
  }
}

function lastToken(pointer: string): string {
  return unescapePointerToken(pointer.slice(pointer.lastIndexOf("/") + 1));
}

/** A URI under the placeholder base, as a reference relative to the schema ("" for the schema itself). */
function relativeToPlaceholder(uri: string): string {
  if (uri === PLACEHOLDER_BASE) return "";
  return uri.startsWith(PLACEHOLDER_ORIGIN) ? uri.slice(PLACEHOLDER_ORIGIN.length) : uri;
}

/** A JSON Pointer to an instance location, optionally one token deeper. */
export function instancePointer(path: ReadonlyArray<string | number>, extra?: string | number): string {
  let s = "";
  for (const p of path) s += `/${typeof p === "number" ? p : escapePointerToken(p)}`;
  if (extra !== undefined) s += `/${typeof extra === "number" ? extra : escapePointerToken(extra)}`;
  return s;
}

/** What a failing keyword adds to its error unit, built only when it fails (see output.ts). */
export interface ErrorDetail {
  /** Machine-readable detail, named as ajv does (missingProperty, allowedValues, limit, ...). */
  params?: Record<string, unknown>;
  /** Values a near-miss instance value or property name may have meant (suggestions). */
  candidates?: readonly unknown[];
}

function makeUnit(
  context: ValidationContext,
  location: SchemaLocation,
  error: string,
  extra?: string | number,
  detail?: ErrorDetail,
): RawUnit {
  const unit: RawUnit = {
    valid: false,
    keywordLocation: context.frame.prefix + location.pointer.slice(context.frame.base),
    absoluteKeywordLocation: location.absolute,
    instanceLocation: instancePointer(context.instancePath, extra),
    error,
    keyword: location.keyword,
  };
  if (detail?.params) unit.params = detail.params;
  if (detail?.candidates) unit.candidates = detail.candidates;
  return unit;
}

/**
 * Records a leaf error (full mode only). `extra` is a child of the instance the error is about (a
 * missing or disallowed property); `detail` its params and suggestion candidates.
 */
export function report(
  context: ValidationContext,
  location: SchemaLocation,
  error: string,
  extra?: string | number,
  detail?: ErrorDetail,
): void {
  // An output unit is work (and memory): it spends from the budget like an evaluation.
  if (++context.steps > context.nextCheck) tick(context);
  if (context.speculative === 0) {
    context.units++;
    context.errors.push(makeUnit(context, location, error, extra, detail));
    if (++context.errorCount > context.maxErrors) throw STOP;
    return;
  }
  // Speculative errors (anyOf/oneOf/not/if/contains) are usually discarded, so they do not count
  // against maxErrors; past the cap they are not recorded, so branches failing everywhere cannot
  // build more than a few times maxErrors units.
  if (context.units >= liveErrorCap(context)) {
    context.errorsDropped = true;
    return;
  }
  context.units++;
  context.errors.push(makeUnit(context, location, error, extra, detail));
}

/** Most error units one validation builds, speculative ones included: 10 × maxErrors, at least 1,000. */
export function liveErrorCap(context: ValidationContext): number {
  return Math.max(1000, context.maxErrors * 10);
}

/**
 * Wraps the errors recorded since `mark` (full mode) in one unit for the keyword, or drops them when
 * the keyword passed. Units are only built on failure, so valid documents allocate nothing here.
 */
export function closeGroup(
  context: ValidationContext,
  mark: number,
  ok: boolean,
  location: SchemaLocation,
  error: string,
  wrapper: boolean,
  keepEmpty = false,
  detail?: ErrorDetail,
): RawUnit | undefined {
  const errors = context.errors;
  if (ok) {
    errors.length = mark;
    return undefined;
  }
  if (errors.length === mark && !keepEmpty) return undefined;
  if (++context.steps > context.nextCheck) tick(context);
  if (context.speculative > 0 && context.units >= liveErrorCap(context)) {
    context.errorsDropped = true;
    errors.length = mark;
    return undefined;
  }
  context.units++;
  const unit = makeUnit(context, location, error, undefined, detail);
  unit.errors = errors.splice(mark);
  if (wrapper) unit.wrapper = true;
  errors.push(unit);
  // A failing anyOf/oneOf/propertyNames outside speculation is an error of its own (its branches'
  // errors were speculative): it counts against maxErrors like a leaf.
  if (!wrapper && context.speculative === 0 && ++context.errorCount > context.maxErrors) throw STOP;
  return unit;
}

/** Full mode: applies `node` to `instance` in place and wraps its errors in one unit for `location`. */
export function applyGrouped(
  node: Node,
  instance: unknown,
  context: ValidationContext,
  location: SchemaLocation,
  error: string,
): boolean {
  const mark = context.errors.length;
  const ok = node.validate(instance, context);
  closeGroup(context, mark, ok, location, error, true);
  return ok;
}

/**
 * Goes one level down for a walk that checks several values of one instance (what applyChild does
 * per value, done once for all of them); the walk sets `context.depth` back when it is done.
 */
export function enterChildren(context: ValidationContext): void {
  if (++context.depth > context.maxDepth) depthExceeded(context);
}

/** Validates a child instance (property value, array item). Counts a step for the budget. */
export function applyChild(
  node: Node,
  value: unknown,
  key: string | number,
  context: ValidationContext,
): boolean {
  if (++context.steps > context.nextCheck) tick(context);
  if (++context.depth > context.maxDepth) depthExceeded(context);
  let r: boolean;
  if (context.track) {
    context.instancePath.push(key);
    r = node.validate(value, context);
    context.instancePath.pop();
  } else r = node.validate(value, context);
  context.depth--;
  return r;
}

/** applyChild for compilations that track evaluated properties/items (unevaluated*). */
export function applyChildTracked(
  node: Node,
  value: unknown,
  key: string | number,
  context: ValidationContext,
): boolean {
  const evaluated = context.evaluated;
  context.evaluated = null;
  const r = applyChild(node, value, key, context);
  context.evaluated = evaluated;
  return r;
}

/** Adds what a subschema evaluated to what its parent evaluated. */
export function mergeEvaluated(parent: EvaluatedRecord, child: EvaluatedRecord): void {
  if (child.allProperties) parent.allProperties = true;
  else if (child.properties) {
    if (!parent.properties) parent.properties = new Set();
    for (const k of child.properties) parent.properties.add(k);
  }
  if (child.allItems) parent.allItems = true;
  if (child.items > parent.items) parent.items = child.items;
  if (child.itemSet) {
    if (!parent.itemSet) parent.itemSet = new Set();
    for (const i of child.itemSet) parent.itemSet.add(i);
  }
}

/** Records that a property was evaluated (for unevaluatedProperties). */
export function markEvaluatedProperty(context: ValidationContext, key: string): void {
  const evaluated = context.evaluated;
  if (evaluated && !evaluated.allProperties) {
    if (!evaluated.properties) evaluated.properties = new Set();
    evaluated.properties.add(key);
  }
}
