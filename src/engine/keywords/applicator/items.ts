import type { KeywordDefinition } from "../../keyword";
import { itemsCheck } from "./items-check";

/** 2020-12 `prefixItems` and `items` (the schema for the items after the prefix), as one check. */
export const items: KeywordDefinition = {
  keyword: "items",
  alsoFor: ["prefixItems"],
  instance: "array",
  drafts: [2020],
  compile(_value, schema, compiler) {
    const hasPrefix = Array.isArray(schema.prefixItems);
    const hasRest = "items" in schema;
    return itemsCheck(compiler, {
      prefix: hasPrefix
        ? (schema.prefixItems as unknown[]).map((_, i) => compiler.subschema("prefixItems", i))
        : [],
      prefixLocation: compiler.location(hasPrefix ? "prefixItems" : "items"),
      rest: hasRest ? compiler.subschema("items") : null,
      restLocation: hasRest ? compiler.location("items") : null,
      restFalse: hasRest && schema.items === false,
    });
  },
};
