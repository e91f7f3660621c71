import { invalidParam, missingParam } from "./errors";
import type { FormObject, FormValue } from "./form";

/** Readers over parsed form params that fail the way Stripe does (400 with the offending `param`). */

export function optionalString(params: FormObject, key: string, path = key): string | undefined {
  const value = params[key];
  if (value === undefined) return undefined;
  if (typeof value !== "string") throw invalidParam(path, `Invalid string: ${path} must be a string.`);
  return value;
}

export function requiredString(params: FormObject, key: string, path = key): string {
  const value = optionalString(params, key, path);
  if (value === undefined || value === "") throw missingParam(path);
  return value;
}

export function optionalObject(params: FormObject, key: string): FormObject | undefined {
  const value = params[key];
  if (value === undefined || value === "") return undefined;
  if (typeof value === "string" || Array.isArray(value)) {
    throw invalidParam(key, `Invalid object: ${key} must be a hash.`);
  }
  return value;
}

export function optionalArray(params: FormObject, key: string): FormValue[] | undefined {
  const value = params[key];
  if (value === undefined || value === "") return undefined;
  if (!Array.isArray(value)) throw invalidParam(key, `Invalid array: ${key} must be an array.`);
  return value;
}

/** Integers travel as strings; Stripe answers `Invalid integer: x` with code parameter_invalid_integer. */
export function optionalInteger(params: FormObject, key: string, path = key): number | undefined {
  const raw = optionalString(params, key, path);
  if (raw === undefined || raw === "") return undefined;
  if (!/^-?\d+$/.test(raw)) throw invalidParam(path, `Invalid integer: ${raw}`, "parameter_invalid_integer");
  return Number(raw);
}

export function optionalBoolean(params: FormObject, key: string): boolean | undefined {
  const raw = optionalString(params, key);
  if (raw === undefined || raw === "") return undefined;
  if (raw !== "true" && raw !== "false") throw invalidParam(key, `Invalid boolean: ${raw}`);
  return raw === "true";
}

export function oneOf<T extends string>(value: string, allowed: readonly T[], param: string): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw invalidParam(param, `Invalid ${param}: must be one of ${allowed.join(", ")}`);
  }
  return value as T;
}

/** `metadata[k]=v` as a flat string map; Stripe limits keys to 40 characters and values to 500. */
export function metadataParam(params: FormObject, key = "metadata"): Record<string, string> {
  const value = optionalObject(params, key) ?? {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== "string")
      throw invalidParam(`${key}[${k}]`, "Invalid metadata value: must be a string.");
    if (k.length > 40) throw invalidParam(`${key}[${k}]`, "Metadata keys can be at most 40 characters long.");
    if (v.length > 500)
      throw invalidParam(`${key}[${k}]`, "Metadata values can be at most 500 characters long.");
    out[k] = v;
  }
  return out;
}

/** Applies a metadata update: an empty value unsets the key, as Stripe documents. */
export function mergeMetadata(current: Record<string, string>, update: Record<string, string>) {
  const next = { ...current };
  for (const [k, v] of Object.entries(update)) {
    if (v === "") delete next[k];
    else next[k] = v;
  }
  return next;
}
