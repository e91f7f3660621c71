/** JSON.stringify in slices, for values parseJsonInSlices built (see there). */
import { isAssembled, YIELD_CHARS } from "./json-slices";
import { yieldThread } from "./yield-thread";

/**
 * JSON.stringify(value) for a value parseJsonInSlices built: a container it assembled is written
 * member by member, with pauses, instead of in one native stretch (about 40 ms for 3.7 MB here);
 * anything else is one JSON.stringify. Undefined for a value JSON.stringify writes nothing for.
 */
export async function stringifyInSlices(value: unknown): Promise<string | undefined> {
  if (!isAssembled(value)) return JSON.stringify(value);
  // Iterative, with the text of each stretch joined at its pause: no await per member.
  const segments: string[] = [];
  let parts: string[] = [];
  let since = 0;
  const frames: Array<{ container: object; keys: string[] | null; next: number; wrote: boolean }> = [];
  const open = (container: object) => {
    const isArray = Array.isArray(container);
    frames.push({ container, keys: isArray ? null : Object.keys(container), next: 0, wrote: false });
    parts.push(isArray ? "[" : "{");
  };
  open(value as object);
  while (frames.length > 0) {
    const frame = frames[frames.length - 1] as (typeof frames)[number];
    const { container, keys } = frame;
    if (frame.next >= (keys ? keys.length : (container as unknown[]).length)) {
      parts.push(keys ? "}" : "]");
      frames.pop();
      continue;
    }
    const index = frame.next++;
    let member: unknown;
    if (keys) {
      const key = keys[index] as string;
      member = (container as Record<string, unknown>)[key];
      if (member === undefined || typeof member === "function" || typeof member === "symbol") continue;
      parts.push(frame.wrote ? "," : "", JSON.stringify(key), ":");
    } else {
      member = (container as unknown[])[index];
      if (frame.wrote) parts.push(",");
    }
    frame.wrote = true;
    if (isAssembled(member)) {
      open(member as object);
      continue;
    }
    const text = JSON.stringify(member) ?? "null";
    parts.push(text);
    since += text.length;
    if (since >= YIELD_CHARS) {
      segments.push(parts.join(""));
      parts = [];
      since = 0;
      await yieldThread();
    }
  }
  segments.push(parts.join(""));
  return segments.join("");
}
