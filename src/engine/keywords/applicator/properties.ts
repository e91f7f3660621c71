import {
  applyChild,
  applyChildTracked,
  closeGroup,
  markEvaluatedProperty,
  type Node,
  report,
} from "../../context";
import { isObject, type JsonObject } from "../../json";
import type { KeywordDefinition } from "../../keyword";
import { PROTOTYPE_NAMES } from "../validation/required";
import { propertyDefaults } from "./property-defaults";

const hasOwn = Object.prototype.hasOwnProperty;

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
    const named = new Map<string, Node>();
    if (declared) for (const k of Object.keys(declared)) named.set(k, compiler.subschema("properties", k));
    const patterns = patternSchemas
      ? Object.keys(patternSchemas).map((p) => ({
          re: compiler.pattern(p),
          node: compiler.subschema("patternProperties", p),
        }))
      : [];
    const additional = hasAdditional ? compiler.subschema("additionalProperties") : null;
    const additionalFalse = schema.additionalProperties === false;
    const propertiesLocation = compiler.location("properties");
    const additionalLocation = compiler.location("additionalProperties");

    if (patterns.length === 0 && !additional) {
      const entries = [...named].map(([k, node]) => ({ k, node, guard: PROTOTYPE_NAMES.has(k) }));
      return (instance, context) => {
        const o = instance as JsonObject;
        let ok = true;
        const full = context.full;
        const mark = context.errors.length;
        for (let i = 0; i < entries.length; i++) {
          const e = entries[i] as { k: string; node: Node; guard: boolean };
          const v = o[e.k];
          if (v === undefined || (e.guard && !hasOwn.call(o, e.k))) continue;
          if (track) markEvaluatedProperty(context, e.k);
          if (!apply(e.node, v, e.k, context)) {
            ok = false;
            if (!full) return false;
          }
        }
        if (full) closeGroup(context, mark, ok, propertiesLocation, "some properties are invalid", true);
        return ok;
      };
    }
    return (instance, context) => {
      const o = instance as JsonObject;
      let ok = true;
      const full = context.full;
      const mark = context.errors.length;
      for (const k in o) {
        const v = o[k];
        let matched = false;
        const node = named.get(k);
        if (node) {
          matched = true;
          if (!apply(node, v, k, context)) {
            ok = false;
            if (!full) return false;
          }
        }
        for (let i = 0; i < patterns.length; i++) {
          const p = patterns[i] as { re: { test(s: string): boolean }; node: Node };
          if (!p.re.test(k)) continue;
          matched = true;
          if (!apply(p.node, v, k, context)) {
            ok = false;
            if (!full) return false;
          }
        }
        if (!matched && additional) {
          if (additionalFalse) {
            ok = false;
            if (!full) return false;
            report(context, additionalLocation, `property ${JSON.stringify(k)} is not allowed`, k);
            continue;
          }
          if (!apply(additional, v, k, context)) {
            ok = false;
            if (!full) return false;
          }
        }
        if (track && (matched || additional)) markEvaluatedProperty(context, k);
      }
      if (full) closeGroup(context, mark, ok, propertiesLocation, "some properties are invalid", true);
      return ok;
    };
  },
  annotate: propertyDefaults,
};
