import { type Check, report, type SchemaLocation, spend } from "../../context";
import type { JsonObject } from "../../json";
import type { KeywordDefinition } from "../../keyword";

/** Names that every object inherits: `o[k] !== undefined` alone would find them on `{}`. */
export const PROTOTYPE_NAMES = new Set(Object.getOwnPropertyNames(Object.prototype));
const hasOwn = Object.prototype.hasOwnProperty;

/** The check that `names` are all present; `because` names the property that requires them. */
export function requiredCheck(names: string[], location: SchemaLocation, because?: string): Check {
  const keys = names.filter((k) => typeof k === "string");
  const guard = keys.map((k) => PROTOTYPE_NAMES.has(k));
  const suffix = because === undefined ? "" : ` (required when ${JSON.stringify(because)} is present)`;
  // The error is about the missing property: its instanceLocation points where it should be.
  const details = keys.map((k) => ({
    params: because === undefined ? { missingProperty: k } : { property: because, missingProperty: k },
  }));
  return (instance, context) => {
    const object = instance as JsonObject;
    let ok = true;
    if (keys.length > 8) spend(context, keys.length);
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i] as string;
      if (object[k] !== undefined && (!guard[i] || hasOwn.call(object, k))) continue;
      if (guard[i] && hasOwn.call(object, k)) continue;
      ok = false;
      if (!context.full) return false;
      report(context, location, `must have required property ${JSON.stringify(k)}${suffix}`, k, details[i]);
    }
    return ok;
  };
}

/** The checks of `{property: [names]}` maps (dependentRequired, array-form dependencies). */
export function dependentRequiredChecks(map: unknown, location: SchemaLocation): Check[] {
  if (typeof map !== "object" || map === null || Array.isArray(map)) return [];
  const checks: Check[] = [];
  for (const k of Object.keys(map)) {
    const names = (map as JsonObject)[k];
    if (!Array.isArray(names)) continue;
    const inner = requiredCheck(names as string[], location, k);
    checks.push((instance, context) => !hasOwn.call(instance, k) || inner(instance, context));
  }
  return checks;
}

/** `required`. */
export const required: KeywordDefinition = {
  keyword: "required",
  instance: "object",
  drafts: [4, 6, 7, 2019, 2020],
  compile: (value, _schema, compiler) =>
    Array.isArray(value) && value.length > 0
      ? requiredCheck(value as string[], compiler.location("required"))
      : null,
};
