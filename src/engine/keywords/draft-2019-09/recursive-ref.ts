import { isObject } from "../../json";
import type { KeywordDefinition } from "../../keyword";
import { dynamicScopeCheck, referenceCheck } from "../core/reference";

/**
 * `$recursiveRef` (2019-09 only, replaced by `$dynamicRef`): when its target has
 * `$recursiveAnchor: true`, the outermost resource of the dynamic scope with one wins.
 */
export const recursiveRef: KeywordDefinition = {
  keyword: "$recursiveRef",
  instance: "any",
  drafts: [2019],
  compile(value, _schema, compiler) {
    if (typeof value !== "string") return null;
    const location = compiler.location("$recursiveRef");
    const target = compiler.resolve(value, "$recursiveRef");
    const fallback = { node: compiler.node(target), base: target.pointer.length, resource: target.resource };
    const anchored = isObject(target.schema) && target.schema.$recursiveAnchor === true;
    if (!anchored) return referenceCheck(compiler, value, location, "$recursiveRef");
    const byResource = compiler.anchorTargets((resource) => (resource.recursiveAnchor ? "" : undefined));
    return dynamicScopeCheck(byResource, fallback, location);
  },
};
