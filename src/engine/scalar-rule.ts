import { CHARS_PER_UNIT, type WorkBudget } from "./budget";
import { codePointLength } from "./json";
import type { CompiledPattern } from "./regex";

// Flag mode's check of a scalar schema (one whose keywords test only an instance's type, its value
// against a primitive `enum`/`const`, a number's limits or a string's length, pattern and format),
// read from data by one function. The walks over an object's values and an array's items call it
// directly: calling each value's node instead goes through a megamorphic call site (the one every
// schema's walk shares), then through the chain of keyword closures, and those calls were most of
// the time of a document of scalars (about 20 ns each on the bench machine, several per value).
// The verdict and the units spent are those of the keywords' own checks, run in the same order.

/** A scalar schema's keywords as data (built by flag-scalar-check.ts). */
export interface ScalarRule {
  /** The JSON types allowed, as TYPE_BITS (all of them without `type`). */
  readonly types: number;
  /** `enum` of primitives: the allowed values. */
  readonly values: ReadonlySet<unknown> | null;
  /** `const` of a primitive. */
  readonly hasConstant: boolean;
  readonly constant: unknown;
  /** Whether any of the four number limits is present. */
  readonly numberLimits: boolean;
  readonly maximum: number | undefined;
  readonly minimum: number | undefined;
  readonly exclusiveMaximum: number | undefined;
  readonly exclusiveMinimum: number | undefined;
  /** Whether any of the string keywords is present. */
  readonly stringChecks: boolean;
  readonly maxLength: number | undefined;
  readonly minLength: number | undefined;
  readonly pattern: CompiledPattern | null;
  /** The asserted format's check. */
  readonly format: ((s: string) => boolean) | null;
}

/** The rule of a schema without validation keywords: every instance is valid. */
export const ANY_INSTANCE: ScalarRule = Object.freeze({
  types: 0x7f,
  values: null,
  hasConstant: false,
  constant: undefined,
  numberLimits: false,
  maximum: undefined,
  minimum: undefined,
  exclusiveMaximum: undefined,
  exclusiveMinimum: undefined,
  stringChecks: false,
  maxLength: undefined,
  minLength: undefined,
  pattern: null,
  format: null,
});

/** Flag mode: whether `instance` is valid against the rule's schema; spends from `budget` as its keywords do. */
export function checkScalar(rule: ScalarRule, instance: unknown, budget: WorkBudget): boolean {
  const types = rule.types;
  switch (typeof instance) {
    case "string":
      if ((types & 32) === 0 || !valueAllowed(rule, instance)) return false;
      return !rule.stringChecks || stringHolds(rule, instance, budget);
    case "number":
      if ((types & 16) === 0 && ((types & 64) === 0 || !Number.isInteger(instance))) return false;
      if (!valueAllowed(rule, instance)) return false;
      return !rule.numberLimits || numberHolds(rule, instance);
    case "boolean":
      return (types & 2) !== 0 && valueAllowed(rule, instance);
    default:
      if (instance === null) return (types & 1) !== 0 && valueAllowed(rule, instance);
      // An object or an array equals no primitive of `enum` or `const`.
      return (types & (Array.isArray(instance) ? 8 : 4)) !== 0 && rule.values === null && !rule.hasConstant;
  }
}

function valueAllowed(rule: ScalarRule, instance: unknown): boolean {
  return (
    (rule.values === null || rule.values.has(instance)) && (!rule.hasConstant || instance === rule.constant)
  );
}

function numberHolds(rule: ScalarRule, n: number): boolean {
  const { maximum, minimum, exclusiveMaximum, exclusiveMinimum } = rule;
  return (
    (maximum === undefined || n <= maximum) &&
    (minimum === undefined || n >= minimum) &&
    (exclusiveMaximum === undefined || n < exclusiveMaximum) &&
    (exclusiveMinimum === undefined || n > exclusiveMinimum)
  );
}

/** maxLength, minLength, pattern, format: as keywords/validation/max-length.ts, min-length.ts,
 * pattern.ts and format-annotation/format.ts check and spend. */
function stringHolds(rule: ScalarRule, s: string, budget: WorkBudget): boolean {
  const length = s.length;
  const max = rule.maxLength;
  if (max !== undefined && length > max) {
    spendScan(budget, length);
    if (codePointLength(s) > max) return false;
  }
  const min = rule.minLength;
  if (min !== undefined && length < 2 * min) {
    if (length < min) return false;
    spendScan(budget, length);
    if (codePointLength(s) < min) return false;
  }
  if (rule.pattern !== null && !rule.pattern.test(s, budget)) return false;
  const format = rule.format;
  if (format !== null) {
    spendScan(budget, length);
    if (!format(s)) return false;
  }
  return true;
}

/** context.ts's spendScan, on the budget. */
function spendScan(budget: WorkBudget, length: number): void {
  if (length >= CHARS_PER_UNIT) budget.spend(Math.floor(length / CHARS_PER_UNIT));
}
