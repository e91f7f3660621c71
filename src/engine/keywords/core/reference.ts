import { type Check, type Frame, type SchemaLocation, tick } from "../../context";
import type { ReferenceTarget, SchemaCompiler } from "../../keyword";
import type { Resource } from "../../registry";

/** A static reference: validates against the resolved target, its errors located through `location`. */
export function referenceCheck(
  compiler: SchemaCompiler,
  reference: string,
  location: SchemaLocation,
  keyword: string,
): Check {
  const target = compiler.resolve(reference, keyword);
  const node = compiler.node(target);
  const targetBase = target.pointer.length;
  const resource = target.resource;
  const dynamic = compiler.usesDynamicScope;
  return (instance, context) => {
    if (++context.steps > context.nextCheck) tick(context);
    let saved: Frame | undefined;
    if (context.track) {
      saved = context.frame;
      context.frame = { prefix: saved.prefix + location.pointer.slice(saved.base), base: targetBase };
    }
    if (dynamic) context.dynamicScope.push(resource);
    const ok = node.validate(instance, context);
    if (dynamic) context.dynamicScope.pop();
    if (saved) context.frame = saved;
    return ok;
  };
}

/**
 * $dynamicRef/$recursiveRef: validates against the target of the outermost resource in the dynamic
 * scope that declares the anchor (`byResource`), else against the static `fallback`.
 */
export function dynamicScopeCheck(
  byResource: Map<Resource, ReferenceTarget>,
  fallback: ReferenceTarget,
  location: SchemaLocation,
): Check {
  return (instance, context) => {
    if (++context.steps > context.nextCheck) tick(context);
    let chosen = fallback;
    for (const r of context.dynamicScope) {
      const hit = byResource.get(r);
      if (hit) {
        chosen = hit;
        break;
      }
    }
    let saved: Frame | undefined;
    if (context.track) {
      saved = context.frame;
      context.frame = { prefix: saved.prefix + location.pointer.slice(saved.base), base: chosen.base };
    }
    context.dynamicScope.push(chosen.resource);
    const ok = chosen.node.validate(instance, context);
    context.dynamicScope.pop();
    if (saved) context.frame = saved;
    return ok;
  };
}
