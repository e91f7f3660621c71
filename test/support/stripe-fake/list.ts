import { invalidParam } from "./errors";
import type { FormObject } from "./form";
import { optionalInteger, optionalString } from "./params";

/**
 * Stripe's list envelope `{ object: "list", data, has_more, url }`, newest first, with `limit`
 * (1..100, default 10) and cursor pagination by `starting_after` / `ending_before`.
 */
export function listResponse<T extends { id?: string; created?: unknown }>(
  url: string,
  items: Iterable<T>,
  params: FormObject,
) {
  const limit = optionalInteger(params, "limit") ?? 10;
  if (limit < 1 || limit > 100) throw invalidParam("limit", "Invalid limit: must be between 1 and 100.");
  // Insertion order is creation order; Stripe lists newest first.
  let rows = [...items].reverse();
  const startingAfter = optionalString(params, "starting_after");
  const endingBefore = optionalString(params, "ending_before");
  if (startingAfter) {
    const index = rows.findIndex((row) => row.id === startingAfter);
    rows = index === -1 ? [] : rows.slice(index + 1);
  } else if (endingBefore) {
    const index = rows.findIndex((row) => row.id === endingBefore);
    rows = index === -1 ? [] : rows.slice(Math.max(0, index - limit), index);
  }
  return { object: "list", data: rows.slice(0, limit), has_more: rows.length > limit, url };
}
