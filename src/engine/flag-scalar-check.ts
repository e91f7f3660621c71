import type { Compilation, CompiledKeyword } from "./assemble";
import { FORMAT_CHECKS } from "./formats";
import type { JsonObject } from "./json";
import type { KeywordDefinition } from "./keyword";
import { format } from "./keywords/format-annotation/format";
import { constKeyword } from "./keywords/validation/const";
import { enumKeyword, enumValuesOfCheck } from "./keywords/validation/enum";
import { exclusiveMaximum } from "./keywords/validation/exclusive-maximum";
import { exclusiveMinimum } from "./keywords/validation/exclusive-minimum";
import { maxLength } from "./keywords/validation/max-length";
import { maximum } from "./keywords/validation/maximum";
import { minLength } from "./keywords/validation/min-length";
import { minimum } from "./keywords/validation/minimum";
import { pattern, patternOfCheck } from "./keywords/validation/pattern";
import { type } from "./keywords/validation/type";
import { ANY_INSTANCE, type ScalarRule } from "./scalar-rule";

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

/** The names of the format checks rules hold, for their keys. */
const formatNames = new Map<(s: string) => boolean, string>();
const formatName = (test: (s: string) => boolean): string => formatNames.get(test) ?? "";

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
  // Starts as the rule of a schema without validation keywords; each keyword narrows it.
  const rule: MutableRule = { ...ANY_INSTANCE };

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
        // The keyword's own set, not a copy: an enum may hold thousands of values.
        const values = enumValuesOfCheck(keyword.check);
        if (values === undefined) return null;
        rule.values = values;
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
        formatNames.set(test, value as string);
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
  return shared(rule);
}

/** Rules handed out for a key, shared: most scalar schemas repeat (`{type: "string"}`), and
 * a rule per node was a tenth of a compiled schema's heap. Bounded, since schemas are the customers'. */
const sharedRules = new Map<string, ScalarRule>();
const MAX_SHARED_RULES = 512;
const MAX_KEY_LENGTH = 128;

/** The shared rule equal to `rule`, or `rule` frozen. A rule with an enum or a pattern is not
 * shared (a pattern's errors name where it is). */
function shared(rule: MutableRule): ScalarRule {
  if (rule.values !== null || rule.pattern !== null) return Object.freeze(rule);
  const constant = rule.hasConstant ? `${typeof rule.constant}:${String(rule.constant)}` : "";
  const key = [
    rule.types,
    constant,
    rule.maximum,
    rule.minimum,
    rule.exclusiveMaximum,
    rule.exclusiveMinimum,
    rule.maxLength,
    rule.minLength,
    rule.format === null ? "" : formatName(rule.format),
  ].join("|");
  const hit = sharedRules.get(key);
  if (hit) return hit;
  const frozen = Object.freeze(rule);
  if (key.length <= MAX_KEY_LENGTH && sharedRules.size < MAX_SHARED_RULES) sharedRules.set(key, frozen);
  return frozen;
}
