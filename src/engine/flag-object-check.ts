import type { Compilation, CompiledKeyword } from "./assemble";
import { type Check, enterChildren, type Node, spend, tick } from "./context";
import { isObject, type JsonObject } from "./json";
import { KeyHints, MAX_KEY_HINTS } from "./key-hints";
import type { SchemaCompiler } from "./keyword";
import { properties } from "./keywords/applicator/properties";
import { PROTOTYPE_NAMES, required } from "./keywords/validation/required";
import { type } from "./keywords/validation/type";
import { checkScalar } from "./scalar-rule";

// The commonest object schema, a closed record (`type: object`, `properties`, `required`,
// `additionalProperties: false`), checked in flag mode by walking the instance's keys instead of
// looking each declared and required name up: in the closures every schema shares, a lookup by a
// varying name (`object[names[i]]`) takes V8's megamorphic path, while `for...in` reads the values
// through the enumeration cache. The keys are walked once: each is checked against `properties`
// (and `additionalProperties: false`) and counted when required, and `required` is decided after
// the walk. The verdict is that of the separate checks (`type`, `required`, `properties`), and every
// unit they spend is spent; a failing instance may spend more than they would (its values are
// checked before a missing required name is noticed), never less.

/** The keywords the walk stands for; a schema with any other validation keyword is left alone. */
const FUSED = new Set<unknown>([type, required, properties]);

interface Declared {
  key: string;
  node: Node;
  required: boolean;
}

/**
 * The flag-mode check of a closed record, or null when the schema is not one. `general` is the
 * assembled check of the same keywords: it runs in the error-collecting modes, on instances that
 * are not objects, and where the walk cannot decide `required` alone.
 */
export function flagObjectCheck(
  schema: JsonObject,
  keywords: readonly CompiledKeyword[],
  scope: SchemaCompiler,
  compilation: Compilation,
  general: Check,
): Check | null {
  if (compilation.tracksEvaluation || compilation.usesDynamicScope) return null;
  if (schema.additionalProperties !== false || isObject(schema.patternProperties)) return null;
  if (!isObject(schema.properties)) return null;
  if (!keywords.every((k) => FUSED.has(k.definition))) return null;
  const typeKeyword = keywords.find((k) => k.definition === type);
  if (typeKeyword && ((typeKeyword.typeMask ?? 0) & 4) === 0) return null;
  const requiredKeyword = keywords.find((k) => k.definition === required);
  const requiredNames = requiredKeyword
    ? (schema.required as unknown[]).filter((k): k is string => typeof k === "string")
    : [];
  const declaredNames = Object.keys(schema.properties);
  const requiredSet = new Set(requiredNames);
  for (const name of requiredSet) {
    // An undeclared required name fails every object; a prototype name needs an own-property test.
    if (!Object.hasOwn(schema.properties, name) || PROTOTYPE_NAMES.has(name)) return null;
  }
  const byName = new Map<string, Declared>();
  for (const name of declaredNames) {
    byName.set(name, {
      key: name,
      node: scope.subschema("properties", name),
      required: requiredSet.has(name),
    });
  }
  const hints = new KeyHints(Math.min(byName.size, MAX_KEY_HINTS), (key) => byName.get(key));
  const requiredCount = requiredSet.size;
  const requiredCheck = requiredKeyword?.check;
  // What `required` spends when it looks its names up (requiredCheck in keywords/validation/required.ts).
  const requiredUnits = requiredNames.length > 8 ? requiredNames.length : 0;

  return (instance, context) => {
    if (context.track || typeof instance !== "object" || instance === null || Array.isArray(instance)) {
      return general(instance, context);
    }
    const object = instance as JsonObject;
    let seen = 0;
    let position = 0;
    // applyChild written out: the values are one level down, entered once for all of them.
    const depth = context.depth;
    const slots = hints.positions();
    for (const key in object) {
      // The unit per key walked of `properties` (keywords/applicator/properties.ts) and the one
      // per value checked (applyChild), spent together.
      context.steps += 2;
      if (context.steps > context.nextCheck) tick(context);
      if (position === 0) enterChildren(context);
      // hints.at(position, key), its hit written out
      let declared = position < slots.length ? slots[position] : null;
      if (declared === null || declared === undefined || declared.key !== key)
        declared = hints.miss(position, key);
      position++;
      if (declared === undefined) {
        context.depth = depth;
        return false;
      }
      const node = declared.node;
      const value = object[key];
      const rule = node.scalar;
      if (rule !== null ? !checkScalar(rule, value, context) : !node.validate(value, context)) {
        context.depth = depth;
        return false;
      }
      if (declared.required && value !== undefined) seen++;
    }
    context.depth = depth;
    // Every required name among the keys walked: `required` holds without its lookups (their units
    // are still spent). Otherwise it decides, looking its names up (inherited, non-enumerable).
    if (seen === requiredCount) {
      if (requiredUnits > 0) spend(context, requiredUnits);
      return true;
    }
    return (requiredCheck as Check)(object, context);
  };
}
