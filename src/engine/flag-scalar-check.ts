import type { Compilation, CompiledKeyword } from "./assemble";
import { FORMAT_CHECKS } from "./formats";
import type { JsonObject } from "./json";
import type { KeywordDefinition } from "./keyword";
import { format } from "./keywords/format-annotation/format";
import { constKeyword } from "./keywords/validation/const";
import { enumKeyword } from "./keywords/validation/enum";
import { exclusiveMaximum } from "./keywords/validation/exclusive-maximum";
import { exclusiveMinimum } from "./keywords/validation/exclusive-minimum";
import { maxLength } from "./keywords/validation/max-length";
import { maximum } from "./keywords/validation/maximum";
import { minLength } from "./keywords/validation/min-length";
import { minimum } from "./keywords/validation/minimum";
import { pattern, patternOfCheck } from "./keywords/validation/pattern";
import { type } from "./keywords/validation/type";
import type { ScalarRule } from "./scalar-rule";

// A scalar schema's keywords gathered into a ScalarRule (scalar-rule.ts says why), for flag mode.

/**
 * The keywords a rule stands for, in the order the assembly runs them for an instance of their kind
 * (the `type` test first, then those for any instance, then the kind's own), which is the order of
 * every dialect table: a failing instance then spends what their checks would.
 */
const RULE_ORDER = new Map<KeywordDefinition, number>(
  [
    enumKeyword,
    constKeyword,
    maximum,
    minimum,
    exclusiveMaximum,
    exclusiveMinimum,
    maxLength,
    minLength,
    pattern,
    format,
  ].map((definition, rank) => [definition, rank]),
);

type MutableRule = { -readonly [K in keyof ScalarRule]: ScalarRule[K] };

/**
 * The rule of a scalar schema, from its compiled keywords (those whose compile gave a check), or
 * null when the schema has another keyword, a structured `enum`/`const`, or keywords in another
 * order (a later-draft keyword taken into an earlier draft's table comes last).
 */
export function scalarRule(
  schema: JsonObject,
  keywords: readonly CompiledKeyword[],
  compilation: Compilation,
): ScalarRule | null {
  if (compilation.tracksEvaluation || compilation.usesDynamicScope) return null;
  const rule: MutableRule = {
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
  };
  let rank = -1;
  for (const keyword of keywords) {
    const definition = keyword.definition;
    if (definition === type) {
      rule.types = keyword.typeMask ?? 0x7f;
      continue;
    }
    const at = RULE_ORDER.get(definition);
    if (at === undefined || at <= rank) return null;
    rank = at;
    const value = schema[definition.keyword];
    switch (definition) {
      case enumKeyword: {
        const values = value as unknown[];
        if (values.some((v) => typeof v === "object" && v !== null)) return null;
        rule.values = new Set(values);
        break;
      }
      case constKeyword:
        if (typeof value === "object" && value !== null) return null;
        rule.hasConstant = true;
        rule.constant = value;
        break;
      case pattern: {
        const compiled = patternOfCheck(keyword.check);
        if (compiled === undefined) return null;
        rule.pattern = compiled;
        rule.stringChecks = true;
        break;
      }
      case format: {
        const test = FORMAT_CHECKS[value as string];
        if (test === undefined) return null;
        rule.format = test;
        rule.stringChecks = true;
        break;
      }
      default:
        if (typeof value !== "number") return null;
        rule[
          definition.keyword as
            | "maximum"
            | "minimum"
            | "exclusiveMaximum"
            | "exclusiveMinimum"
            | "maxLength"
            | "minLength"
        ] = value;
        if (definition === maxLength || definition === minLength) rule.stringChecks = true;
        else rule.numberLimits = true;
    }
  }
  return Object.freeze(rule);
}
