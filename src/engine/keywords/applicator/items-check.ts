import {
  applyChild,
  applyChildTracked,
  type Check,
  closeGroup,
  enterChildren,
  type Node,
  report,
  type SchemaLocation,
  tick,
  type ValidationContext,
} from "../../context";
import type { SchemaCompiler } from "../../keyword";
import { checkScalar } from "../../scalar-rule";

/** How an array's items are checked: positional schemas first, then one for the rest. */
export interface ItemsLayout {
  prefix: Node[];
  /** Where the errors of all items are grouped (`prefixItems`, or `items`). */
  prefixLocation: SchemaLocation;
  rest: Node | null;
  restLocation: SchemaLocation | null;
  /** The rest schema is `false`: any item past the prefix is one error, not one per item. */
  restFalse: boolean;
}

/**
 * Flag mode (nor instance paths nor evaluation records) with one schema for every item: applyChild
 * written out, the items entered once for all of them, a unit per item as applyChild spends.
 */
function restItems(rest: Node, array: unknown[], context: ValidationContext): boolean {
  const n = array.length;
  if (n === 0) return true;
  const depth = context.depth;
  enterChildren(context);
  const rule = rest.scalar;
  for (let i = 0; i < n; i++) {
    if (++context.steps > context.nextCheck) tick(context);
    if (rule !== null ? !checkScalar(rule, array[i], context) : !rest.validate(array[i], context)) {
      context.depth = depth;
      return false;
    }
  }
  context.depth = depth;
  return true;
}

/** The check shared by 2020-12 `prefixItems`/`items` and the older array-form `items`/`additionalItems`. */
export function itemsCheck(compiler: SchemaCompiler, layout: ItemsLayout): Check | null {
  const { prefix, prefixLocation, rest, restLocation, restFalse } = layout;
  if (prefix.length === 0 && !rest) return null;
  const track = compiler.tracksEvaluation;
  const apply = track ? applyChildTracked : applyChild;
  const prefixLength = prefix.length;
  return (instance, context) => {
    const array = instance as unknown[];
    if (!track && !context.track && prefixLength === 0 && rest !== null && !restFalse) {
      return restItems(rest, array, context);
    }
    let ok = true;
    const full = context.full;
    const mark = context.errors.length;
    const checked = array.length < prefixLength ? array.length : prefixLength;
    for (let i = 0; i < checked; i++) {
      if (!apply(prefix[i] as Node, array[i], i, context)) {
        ok = false;
        if (!full) return false;
      }
    }
    if (rest && array.length > prefixLength) {
      if (restFalse) {
        ok = false;
        if (!full) return false;
        report(
          context,
          restLocation as SchemaLocation,
          `must have at most ${prefixLength} item${prefixLength === 1 ? "" : "s"}`,
          undefined,
          { params: { limit: prefixLength } },
        );
      } else {
        for (let i = prefixLength; i < array.length; i++) {
          if (!apply(rest, array[i], i, context)) {
            ok = false;
            if (!full) return false;
          }
        }
      }
    }
    if (full) closeGroup(context, mark, ok, prefixLocation, "some items are invalid", true);
    if (track && context.evaluated) {
      if (rest) context.evaluated.allItems = true;
      else if (checked > context.evaluated.items) context.evaluated.items = checked;
    }
    return ok;
  };
}
