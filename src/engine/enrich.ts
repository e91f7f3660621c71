import type { Annotation } from "./context";
import { FORMAT_CHECKS, normalizeFormat } from "./formats";
import { isObject } from "./json";
import { escapePointerToken } from "./uri";

// Enrichment runs a second, annotating pass over a valid document and applies what it collected:
// defaults of absent properties, normalised formats, and the meta-data annotations by location.

/** Which parts of enrichment to produce; each defaults to true when enrichment is on. */
export interface EnrichOptions {
  /** Fill absent properties that have a `default`. */
  defaults?: boolean;
  /** Normalise formatted strings (date-time to UTC `Z`, e-mail domain and URI scheme/host lower-cased). */
  formats?: boolean;
  /** Collect title, description, deprecated, readOnly, writeOnly, examples per instance location. */
  annotations?: boolean;
}

/** Annotations collected for one instance location. */
export interface LocationAnnotations {
  title?: string;
  description?: string;
  default?: unknown;
  deprecated?: boolean;
  readOnly?: boolean;
  writeOnly?: boolean;
  examples?: unknown[];
}

/** What enrichment returns: the enriched copy, its annotations, and whether the byte cap cut them. */
export interface Enrichment {
  data: unknown;
  annotations?: Record<string, LocationAnnotations>;
  /** Defaults or annotations were left out at the `maxBytes` cap. */
  truncated: boolean;
}

/** Bytes (JSON text) that enrichment may add to the document: filled defaults plus annotations. */
class ByteAllowance {
  truncated = false;
  constructor(private remaining: number) {}
  /** Takes the bytes of `key: value` if they fit; otherwise marks the output truncated. */
  take(key: string, value: unknown): boolean {
    if (this.remaining <= 0) {
      this.truncated = true;
      return false;
    }
    // Stringified at most until the allowance is spent, so the cost stays linear in the cap.
    const bytes =
      key.length + 4 + (typeof value === "string" ? value.length : (JSON.stringify(value)?.length ?? 4));
    if (bytes > this.remaining) {
      this.remaining = 0;
      this.truncated = true;
      return false;
    }
    this.remaining -= bytes;
    return true;
  }
}

/**
 * The enriched copy of a valid document and, unless turned off, its annotations by location. The
 * defaults filled in and the annotations together add at most `maxBytes` of JSON text (a schema's
 * annotation repeats at every location it applies to, so without a cap a small request amplifies).
 */
export function enrichDocument(
  instance: unknown,
  annotations: Annotation[],
  parts: EnrichOptions,
  maxBytes: number,
): Enrichment {
  const data = cloneJson(instance);
  const allowance = new ByteAllowance(maxBytes);
  if (parts.defaults !== false) {
    for (const a of annotations) {
      if (a.keyword !== "default" || a.property === undefined) continue;
      const target = getAt(data, a.instancePath);
      if (!isObject(target) || Object.hasOwn(target, a.property)) continue;
      if (allowance.take(a.property, a.value)) defineOwn(target, a.property, cloneJson(a.value));
    }
  }
  if (parts.formats !== false) {
    for (const a of annotations) {
      if (a.keyword !== "format" || typeof a.value !== "string") continue;
      const v = getAt(data, a.instancePath);
      const check = FORMAT_CHECKS[a.value];
      if (typeof v !== "string" || !check || !check(v)) continue;
      const normalised = normalizeFormat(a.value, v);
      if (normalised !== v) setAt(data, a.instancePath, normalised);
    }
  }
  if (parts.annotations === false) return { data, truncated: allowance.truncated };
  const grouped = groupAnnotations(annotations, allowance);
  return { data, annotations: grouped, truncated: allowance.truncated };
}

function groupAnnotations(
  annotations: Annotation[],
  allowance: ByteAllowance,
): Record<string, LocationAnnotations> {
  const out: Record<string, LocationAnnotations> = {};
  for (const a of annotations) {
    if (a.keyword === "format" || a.property !== undefined) continue;
    const key = a.instancePath.map((p) => `/${typeof p === "number" ? p : escapePointerToken(p)}`).join("");
    if (!allowance.take(key + a.keyword, a.value)) continue;
    const entry = out[key] ?? {};
    out[key] = entry;
    switch (a.keyword) {
      case "title":
        if (entry.title === undefined && typeof a.value === "string") entry.title = a.value;
        break;
      case "description":
        if (entry.description === undefined && typeof a.value === "string") entry.description = a.value;
        break;
      case "default":
        if (!("default" in entry)) entry.default = a.value;
        break;
      case "deprecated":
      case "readOnly":
      case "writeOnly":
        if (a.value === true) entry[a.keyword] = true;
        break;
      case "examples":
        if (Array.isArray(a.value)) entry.examples = [...(entry.examples ?? []), ...a.value];
        break;
    }
  }
  return out;
}

/** Sets an own data property, `__proto__` included (an assignment would set the prototype). */
function defineOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__")
    Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
  else target[key] = value;
}

function cloneJson(v: unknown): unknown {
  if (typeof v !== "object" || v === null) return v;
  if (Array.isArray(v)) return v.map(cloneJson);
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) defineOwn(out, k, cloneJson((v as Record<string, unknown>)[k]));
  return out;
}

function getAt(root: unknown, path: ReadonlyArray<string | number>): unknown {
  let cur = root;
  for (const p of path) {
    if (Array.isArray(cur) && typeof p === "number") cur = cur[p];
    else if (isObject(cur) && typeof p === "string" && Object.hasOwn(cur, p)) cur = cur[p];
    else return undefined;
  }
  return cur;
}

function setAt(root: unknown, path: ReadonlyArray<string | number>, value: unknown): void {
  if (path.length === 0) return;
  const parent = getAt(root, path.slice(0, -1));
  const last = path[path.length - 1];
  if (Array.isArray(parent) && typeof last === "number") parent[last] = value;
  else if (isObject(parent) && typeof last === "string") defineOwn(parent, last, value);
}
