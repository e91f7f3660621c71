// The keywords whose values hold subschemas, as the registry's scan finds them (the scan's order:
// objects of schemas, array-form dependencies' schemas, single schemas, arrays of schemas, items).

export const OBJECT_OF_SCHEMAS = [
  "properties",
  "patternProperties",
  "$defs",
  "definitions",
  "dependentSchemas",
];
export const SINGLE_SCHEMA = [
  "additionalProperties",
  "additionalItems",
  "unevaluatedProperties",
  "unevaluatedItems",
  "contains",
  "propertyNames",
  "not",
  "if",
  "then",
  "else",
  "contentSchema",
];
export const ARRAY_OF_SCHEMAS = ["allOf", "anyOf", "oneOf", "prefixItems"];
/** Every keyword holding subschemas, to one bit each: a schema's own few keys say which it has. */
export const SUBSCHEMA_BITS = new Map<string, number>(
  [...OBJECT_OF_SCHEMAS, ...SINGLE_SCHEMA, ...ARRAY_OF_SCHEMAS, "dependencies", "items"].map((kw, i) => [
    kw,
    1 << i,
  ]),
);
export const bitOf = (kw: string): number => SUBSCHEMA_BITS.get(kw) as number;
/** The bits of each list above, by position, and of the two other keywords: read in the scan of every subschema. */
export const OBJECT_OF_SCHEMAS_BITS = OBJECT_OF_SCHEMAS.map(bitOf);
export const SINGLE_SCHEMA_BITS = SINGLE_SCHEMA.map(bitOf);
export const ARRAY_OF_SCHEMAS_BITS = ARRAY_OF_SCHEMAS.map(bitOf);
export const DEPENDENCIES_BIT = bitOf("dependencies");
export const ITEMS_BIT = bitOf("items");
