import type { Check } from "../../context";
import { isObject, type JsonObject } from "../../json";

const hasOwn = Object.prototype.hasOwnProperty;

/** Annotates the `default` of each absent property of `properties`, for enrichment to fill in. */
export function propertyDefaults(_value: unknown, schema: JsonObject): Check | null {
  if (!isObject(schema.properties)) return null;
  const declared = schema.properties;
  const defaults: Array<[string, unknown]> = [];
  for (const k of Object.keys(declared)) {
    const p = declared[k];
    if (isObject(p) && "default" in p) defaults.push([k, p.default]);
  }
  if (defaults.length === 0) return null;
  return (instance, context) => {
    if (!isObject(instance)) return true;
    for (const [k, value] of defaults) {
      if (!hasOwn.call(instance, k))
        context.annotations.push({
          instancePath: [...context.instancePath],
          keyword: "default",
          value,
          property: k,
        });
    }
    return true;
  };
}
