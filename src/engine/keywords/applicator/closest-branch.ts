import { closeGroup, type SchemaLocation, type ValidationContext } from "../../context";
import { branchDistance, type RawUnit } from "../../output";

/**
 * Which failing branch of an anyOf/oneOf the instance came closest to (fewest errors, a type or
 * const/enum mismatch counting ten), so its errors can be listed first. Full mode only.
 */
export class ClosestBranch {
  private branch = -1;
  private from = 0;
  private to = 0;
  private distance = Number.POSITIVE_INFINITY;

  /** Records branch `index`, whose errors are `errors[from..]`. */
  consider(errors: RawUnit[], index: number, from: number): void {
    const to = errors.length;
    // A branch whose errors were dropped (speculative cap) cannot be judged.
    if (to === from) return;
    const distance = branchDistance(errors, from, to);
    if (distance < this.distance) {
      this.branch = index;
      this.from = from;
      this.to = to;
      this.distance = distance;
    }
  }

  /** Closes the keyword's failed group, the closest branch's errors first and named in `params`. */
  close(context: ValidationContext, mark: number, location: SchemaLocation, message: string): void {
    const errors = context.errors;
    if (this.branch < 0 || this.to > errors.length) {
      closeGroup(context, mark, false, location, message, false, true);
      return;
    }
    if (this.from > mark) errors.splice(mark, 0, ...errors.splice(this.from, this.to - this.from));
    closeGroup(context, mark, false, location, `${message} (closest: branch ${this.branch})`, false, true, {
      params: { closestBranch: this.branch },
    });
  }
}
