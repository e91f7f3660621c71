import type { KeywordDefinition } from "../../keyword";
import { resolveUri, splitFragment } from "../../uri";
import { dynamicScopeCheck, referenceCheck } from "./reference";

/**
 * `$dynamicRef`: when it names a `$dynamicAnchor` of its initial target, the outermost resource of
 * the dynamic scope with that anchor wins; otherwise it is a plain `$ref`.
 */
export const dynamicRef: KeywordDefinition = {
  keyword: "$dynamicRef",
  instance: "any",
  drafts: [2020],
  compile(value, _schema, compiler) {
    if (typeof value !== "string") return null;
    const location = compiler.location("$dynamicRef");
    const absolute = resolveUri(compiler.target.resource.uri, value);
    const target = compiler.resolve(value, "$dynamicRef");
    const fragment = splitFragment(absolute)[1];
    const isDynamic =
      fragment !== "" &&
      !fragment.startsWith("/") &&
      target.resource.dynamicAnchors.get(fragment) === target.pointer;
    if (!isDynamic) return referenceCheck(compiler, value, location, "$dynamicRef");
    const byResource = compiler.anchorTargets((resource) =>
      resource.dynamicAnchors.get(fragment) === undefined ? undefined : fragment,
    );
    const fallback = { node: compiler.node(target), base: target.pointer.length, resource: target.resource };
    return dynamicScopeCheck(byResource, fallback, location);
  },
};
