import type { KeywordDefinition } from "../../keyword";

/**
 * A meta-data keyword: no assertion, its value is collected as an annotation of valid instances.
 * Every dialect collects them, as this engine always has (`deprecated` and friends are 2019-09 names).
 */
export function annotationKeyword(keyword: string): KeywordDefinition {
  return {
    keyword,
    instance: "any",
    drafts: [4, 6, 7, 2019, 2020],
    annotate: (value) => (_instance, context) => {
      context.annotations.push({ instancePath: [...context.instancePath], keyword, value });
      return true;
    },
  };
}
