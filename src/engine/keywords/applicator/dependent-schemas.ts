import { applyGrouped, type Check, type SchemaLocation, tick } from "../../context";
import { isObject } from "../../json";
import type { KeywordDefinition, SchemaCompiler } from "../../keyword";

const hasOwn = Object.prototype.hasOwnProperty;

/** The checks of `{property: schema}` maps; `skipArrays` leaves the array entries of `dependencies` out. */
export function dependentSchemaChecks(
  map: unknown,
  keyword: string,
  compiler: SchemaCompiler,
  location: SchemaLocation,
  skipArrays = false,
): Check[] {
  if (!isObject(map)) return [];
  const checks: Check[] = [];
  for (const k of Object.keys(map)) {
    if (skipArrays && Array.isArray(map[k])) continue;
    const node = compiler.subschema(keyword, k);
    const message = `must match the schema required when property ${JSON.stringify(k)} is present`;
    checks.push((instance, context) => {
      if (!hasOwn.call(instance, k)) return true;
      if (++context.steps > context.nextCheck) tick(context);
      if (!context.full) return node.validate(instance, context);
      return applyGrouped(node, instance, context, location, message);
    });
  }
  return checks;
}

/** `dependentSchemas`: a schema the whole object must match when a property is present. */
export const dependentSchemas: KeywordDefinition = {
  keyword: "dependentSchemas",
  instance: "object",
  drafts: [2019, 2020],
  compile: (value, _schema, compiler) =>
    dependentSchemaChecks(value, "dependentSchemas", compiler, compiler.location("dependentSchemas")),
};
