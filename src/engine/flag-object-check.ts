import type { Compilation, CompiledKeyword } from "./assemble";
import { applyChild, type Check, type Node, spend, tick } from "./context";
import { isObject, type JsonObject } from "./json";
import { KeyHints, MAX_KEY_HINTS } from "./key-hints";
import type { SchemaCompiler } from "./keyword";
import { properties } from "./keywords/applicator/properties";
import { PROTOTYPE_NAMES, required } from "./keywords/validation/required";
import { type } from "./keywords/validation/type";

// The commonest object schema, a closed record (`type: object`, `properties`, `required`,
// `additionalProperties: false`), checked in flag mode by walking the instance's keys instead of
// looking each declared and required name up: in the closures every schema shares, a lookup by a
// varying name (`object[names[i]]`) takes V8's megamorphic path, while `for...in` reads the values
// through the enumeration cache. The verdict, the order in which the keywords' parts run and the
// work units spent are those of the separate checks (`type`, then `required`, then `properties`):
// the keys are walked twice, once for `required` and once for `properties`.

/** The keywords the walk stands for; a schema with any other validation keyword is left alone. */
const FUSED = new Set<unknown>([type, required, properties]);

/** Keys walked looking for the required ones, past which `required` looks them up instead. */
const walkLimit = (requiredCount: number): number => 2 * requiredCount + 32;

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
  const limit = walkLimit(requiredCount);

  return (instance, context) => {
    if (context.track || typeof instance !== "object" || instance === null || Array.isArray(instance)) {
      return general(instance, context);
    }
    const object = instance as JsonObject;
    if (requiredCount > 0) {
      let seen = 0;
      let position = 0;
      for (const key in object) {
        if (position === limit) break;
        const declared = hints.at(position++, key);
        if (declared?.required && object[key] !== undefined && ++seen === requiredCount) break;
      }
      if (seen === requiredCount) {
        if (requiredUnits > 0) spend(context, requiredUnits);
      } else if (!(requiredCheck as Check)(object, context)) return false;
    }
    let position = 0;
    for (const key in object) {
      // The unit per key walked of `properties` (keywords/applicator/properties.ts).
      if (++context.steps > context.nextCheck) tick(context);
      const declared = hints.at(position++, key);
      if (declared === undefined) return false;
      if (!applyChild(declared.node, object[key], key, context)) return false;
    }
    return true;
  };
}
