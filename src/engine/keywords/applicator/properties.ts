import {
  applyChild,
  applyChildTracked,
  closeGroup,
  markEvaluatedProperty,
  type Node,
  report,
  tick,
} from "../../context";
import { isObject, type JsonObject } from "../../json";
import { KeyHints, MAX_KEY_HINTS } from "../../key-hints";
import type { KeywordDefinition } from "../../keyword";
import type { CompiledPattern } from "../../regex";
import { PROTOTYPE_NAMES } from "../validation/required";
import { propertyDefaults } from "./property-defaults";

const hasOwn = Object.prototype.hasOwnProperty;

/** A declared property: its subschema, and whether its name needs an own-property test. */
interface Declared {
  key: string;
  node: Node;
  guard: boolean;
}

/**
 * `properties`, `patternProperties` and `additionalProperties` as one check, since what is
 * "additional" depends on the other two. With `properties` alone it looks up the declared names
 * instead of walking the instance's keys.
 */
export const properties: KeywordDefinition = {
  keyword: "properties",
  alsoFor: ["patternProperties", "additionalProperties"],
  instance: "object",
  drafts: [4, 6, 7, 2019, 2020],
  compile(_value, schema, compiler) {
    const declared = isObject(schema.properties) ? schema.properties : null;
    const patternSchemas = isObject(schema.patternProperties) ? schema.patternProperties : null;
    const hasAdditional = "additionalProperties" in schema;
    if (!declared && !patternSchemas && !hasAdditional) return null;
    const track = compiler.tracksEvaluation;
    const apply = track ? applyChildTracked : applyChild;
    const named = new Map<string, Declared>();
    const declaredKeys = declared ? compiler.keysOf(declared) : [];
    const patternKeys = patternSchemas ? compiler.keysOf(patternSchemas) : [];
    // A wide `properties` over the limits is refused before its members are made.
    compiler.expectSubschemas(declaredKeys.length + patternKeys.length);
    for (const key of declaredKeys) {
      named.set(key, { key, node: compiler.subschema("properties", key), guard: PROTOTYPE_NAMES.has(key) });
    }
    const patterns = patternSchemas
      ? patternKeys.map((p) => ({
          re: compiler.pattern(p),
          node: compiler.subschema("patternProperties", p),
        }))
      : [];
    const additional = hasAdditional ? compiler.subschema("additionalProperties") : null;
    const additionalFalse = schema.additionalProperties === false;
    const propertiesLocation = compiler.location("properties");
    const byName = (key: string) => named.get(key);

    if (patterns.length === 0 && !additional) {
      const entries = [...named.values()];
      // In flag mode an object with no more keys than there are declared names is walked instead
      // (key-hints.ts says why): counting its keys first stops at one past that number, so the walk
      // never does more work than the lookups it replaces.
      const hints = track ? null : new KeyHints(Math.min(entries.length, MAX_KEY_HINTS), byName);
      return (instance, context) => {
        const object = instance as JsonObject;
        if (hints !== null && !context.track) {
          let keys = 0;
          for (const _ in object) if (++keys > entries.length) break;
          if (keys <= entries.length) {
            let position = 0;
            for (const key in object) {
              const entry = hints.at(position++, key);
              if (entry === undefined) continue;
              const value = object[key];
              if (value === undefined || (entry.guard && !hasOwn.call(object, key))) continue;
              if (!applyChild(entry.node, value, key, context)) return false;
            }
            return true;
          }
        }
        let ok = true;
        const full = context.full;
        const mark = context.errors.length;
        for (let i = 0; i < entries.length; i++) {
          const entry = entries[i] as Declared;
          const value = object[entry.key];
          if (value === undefined || (entry.guard && !hasOwn.call(object, entry.key))) continue;
          if (track) markEvaluatedProperty(context, entry.key);
          if (!apply(entry.node, value, entry.key, context)) {
            ok = false;
            if (!full) return false;
          }
        }
        if (full) closeGroup(context, mark, ok, propertiesLocation, "some properties are invalid", true);
        return ok;
      };
    }
    const additionalLocation = compiler.location("additionalProperties");
    // Only an error names them (as candidates for a misspelt key).
    let declaredNames: string[] | undefined;
    const hints = named.size > 0 ? new KeyHints(Math.min(named.size, MAX_KEY_HINTS), byName) : null;
    return (instance, context) => {
      const object = instance as JsonObject;
      let ok = true;
      const full = context.full;
      const mark = context.errors.length;
      let position = 0;
      for (const key in object) {
        // Enumerating a key of a large object (dictionary mode) costs about a subschema evaluation
        // (measured: 8,000 keys under 500 additionalProperties), so each key walked is a unit too.
        if (++context.steps > context.nextCheck) tick(context);
        const value = object[key];
        let matched = false;
        const node = hints === null ? undefined : hints.at(position++, key)?.node;
        if (node) {
          matched = true;
          if (!apply(node, value, key, context)) {
            ok = false;
            if (!full) return false;
          }
        }
        for (let i = 0; i < patterns.length; i++) {
          const pattern = patterns[i] as { re: CompiledPattern; node: Node };
          // Each pattern tried on a key costs a unit.
          if (++context.steps > context.nextCheck) tick(context);
          if (!pattern.re.test(key, context)) continue;
          matched = true;
          if (!apply(pattern.node, value, key, context)) {
            ok = false;
            if (!full) return false;
          }
        }
        if (!matched && additional) {
          if (additionalFalse) {
            ok = false;
            if (!full) return false;
            declaredNames ??= [...named.keys()];
            report(context, additionalLocation, `property ${JSON.stringify(key)} is not allowed`, key, {
              params: { additionalProperty: key },
              candidates: declaredNames,
            });
            continue;
          }
          if (!apply(additional, value, key, context)) {
            ok = false;
            if (!full) return false;
          }
        }
        if (track && (matched || additional)) markEvaluatedProperty(context, key);
      }
      if (full) closeGroup(context, mark, ok, propertiesLocation, "some properties are invalid", true);
      return ok;
    };
  },
  annotate: propertyDefaults,
};
