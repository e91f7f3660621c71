import {
  applyChild,
  applyChildTracked,
  type Check,
  closeGroup,
  type Node,
  report,
  type SchemaLocation,
} from "../../context";
import type { SchemaCompiler } from "../../keyword";

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

/** The check shared by 2020-12 `prefixItems`/`items` and the older array-form `items`/`additionalItems`. */
export function itemsCheck(compiler: SchemaCompiler, layout: ItemsLayout): Check | null {
  const { prefix, prefixLocation, rest, restLocation, restFalse } = layout;
  if (prefix.length === 0 && !rest) return null;
  const track = compiler.tracksEvaluation;
  const apply = track ? applyChildTracked : applyChild;
  const np = prefix.length;
  return (instance, context) => {
    const a = instance as unknown[];
    let ok = true;
    const full = context.full;
    const mark = context.errors.length;
    const n = a.length < np ? a.length : np;
    for (let i = 0; i < n; i++) {
      if (!apply(prefix[i] as Node, a[i], i, context)) {
        ok = false;
        if (!full) return false;
      }
    }
    if (rest && a.length > np) {
      if (restFalse) {
        ok = false;
        if (!full) return false;
        report(context, restLocation as SchemaLocation, `must have at most ${np} item${np === 1 ? "" : "s"}`);
      } else {
        for (let i = np; i < a.length; i++) {
          if (!apply(rest, a[i], i, context)) {
            ok = false;
            if (!full) return false;
          }
        }
      }
    }
    if (full) closeGroup(context, mark, ok, prefixLocation, "some items are invalid", true);
    if (track && context.evaluated) {
      if (rest) context.evaluated.allItems = true;
      else if (n > context.evaluated.items) context.evaluated.items = n;
    }
    return ok;
  };
}
