/**
 * Stripe's v1 API takes `application/x-www-form-urlencoded` bodies (and query strings) with bracket
 * syntax for structure: `payload[value]=3`, `metadata[k]=v`, `line_items[0][price]=price_1`,
 * `lookup_keys[]=pro`. This parses them into plain nested values; objects whose keys are all indices
 * become arrays, as Stripe reads them.
 */
export type FormValue = string | FormValue[] | FormObject;
export interface FormObject {
  [key: string]: FormValue;
}

/** `name[a][b]` → ["name", "a", "b"]; `name[]` → ["name", ""] (append). */
function keySegments(key: string): string[] {
  const first = key.indexOf("[");
  if (first <= 0) return [key];
  const segments = [key.slice(0, first)];
  for (const match of key.slice(first).matchAll(/\[([^\]]*)\]/g)) segments.push(match[1] ?? "");
  return segments;
}

function decode(part: string): string {
  return decodeURIComponent(part.replace(/\+/g, " "));
}

function assign(target: FormObject, segments: string[], value: string): void {
  let node: FormObject = target;
  for (let i = 0; i < segments.length; i++) {
    let segment = segments[i] ?? "";
    const last = i === segments.length - 1;
    // An empty bracket appends: give it the next free index so arrays come out in order.
    if (segment === "") segment = String(Object.keys(node).length);
    if (last) {
      node[segment] = value;
      return;
    }
    const next = node[segment];
    if (typeof next !== "object" || next === null) node[segment] = {};
    node = node[segment] as FormObject;
  }
}

function arraysFromIndexedObjects(value: FormValue): FormValue {
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return value.map(arraysFromIndexedObjects);
  const keys = Object.keys(value);
  const converted: FormObject = {};
  for (const key of keys) converted[key] = arraysFromIndexedObjects(value[key] as FormValue);
  if (keys.length > 0 && keys.every((k) => /^\d+$/.test(k))) {
    return keys
      .map(Number)
      .sort((a, b) => a - b)
      .map((index) => converted[String(index)] as FormValue);
  }
  return converted;
}

/** Parses a form-encoded string (body or query) into nested params. */
export function parseStripeForm(text: string): FormObject {
  const root: FormObject = {};
  for (const pair of text.split("&")) {
    if (!pair) continue;
    const eq = pair.indexOf("=");
    const rawKey = eq === -1 ? pair : pair.slice(0, eq);
    const rawValue = eq === -1 ? "" : pair.slice(eq + 1);
    assign(root, keySegments(decode(rawKey)), decode(rawValue));
  }
  return arraysFromIndexedObjects(root) as FormObject;
}

/** Stable JSON of params (sorted keys): Stripe's idempotency layer compares parameters, not bytes. */
export function canonicalParams(params: FormObject): string {
  const sort = (value: FormValue): unknown => {
    if (typeof value === "string") return value;
    if (Array.isArray(value)) return value.map(sort);
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sort(value[k] as FormValue)]),
    );
  };
  return JSON.stringify(sort(params));
}
