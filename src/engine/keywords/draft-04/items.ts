import type { KeywordDefinition } from "../../keyword";
import { itemsCheck } from "../applicator/items-check";

/**
 * `items` before 2020-12: one schema for every item, or an array of positional schemas followed by
 * `additionalItems` for the rest (2020-12 renamed these prefixItems and items).
 */
export const itemsDraft04: KeywordDefinition = {
  keyword: "items",
  instance: "array",
  drafts: [4, 6, 7, 2019],
  compile(value, schema, compiler) {
    if (!Array.isArray(value)) {
      return itemsCheck(compiler, {
        prefix: [],
        prefixLocation: compiler.location("items"),
        rest: compiler.subschema("items"),
        restLocation: compiler.location("items"),
        restFalse: value === false,
      });
    }
    const hasRest = "additionalItems" in schema;
    return itemsCheck(compiler, {
      prefix: value.map((_, i) => compiler.subschema("items", i)),
      prefixLocation: compiler.location("items"),
      rest: hasRest ? compiler.subschema("additionalItems") : null,
      restLocation: hasRest ? compiler.location("additionalItems") : null,
      restFalse: hasRest && schema.additionalItems === false,
    });
  },
};
