/**
 * Documents generated from a schema where its package ships none: a small positive document (the
 * required properties, plus a few optional ones with a default or an enum) and negatives by the
 * mistakes people make: a required property left out, a value of the wrong type, a typo in an enum
 * value, a misspelt property name under `additionalProperties: false`, the wrong type at the root.
 * fetch.ts keeps a generated document only when both reference validators confirm its intent.
 */
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type S = Record<string, any>;

function resolve(schema: unknown, root: S, seen = 0): S {
  let s = (typeof schema === "object" && schema !== null ? schema : {}) as S;
  while (typeof s.$ref === "string" && s.$ref.startsWith("#") && seen++ < 20) {
    const target = s.$ref
      .slice(1)
      .split("/")
      .filter(Boolean)
      .reduce<any>(
        (node, part) => node?.[decodeURIComponent(part.replace(/~1/g, "/").replace(/~0/g, "~"))],
        root,
      );
    if (typeof target !== "object" || target === null) break;
    s = { ...target, ...Object.fromEntries(Object.entries(s).filter(([k]) => k !== "$ref")) };
  }
  if (Array.isArray(s.allOf) && s.allOf.length > 0 && !s.type && !s.properties) {
    const first = resolve(s.allOf[0], root, seen);
    s = { ...first, ...s };
  }
  return s;
}

function typeOf(s: S): string | undefined {
  const t = Array.isArray(s.type) ? s.type.find((x: string) => x !== "null") : s.type;
  if (t) return t;
  if (s.properties || s.required || s.additionalProperties !== undefined) return "object";
  if (s.items) return "array";
  return undefined;
}

const FORMATS: Record<string, string> = {
  uri: "https://example.com/a",
  "uri-reference": "./a",
  email: "dev@example.com",
  "date-time": "2026-01-01T00:00:00Z",
  date: "2026-01-01",
  hostname: "example.com",
  ipv4: "192.0.2.1",
};

export function sample(schema: unknown, root: S, depth = 0, full = false): Json | undefined {
  if (depth > 8) return undefined;
  if (schema === true) return "x";
  const s = resolve(schema, root);
  if ("const" in s) return s.const;
  if (Array.isArray(s.enum) && s.enum.length) return s.enum[0];
  if (s.default !== undefined && depth > 0) return s.default;
  if (Array.isArray(s.examples) && s.examples.length && depth > 0) return s.examples[0];
  const branch = s.oneOf ?? s.anyOf;
  if (Array.isArray(branch) && branch.length && !s.type && !s.properties) {
    return sample(branch[0], root, depth + 1, full);
  }
  switch (typeOf(s)) {
    case "object": {
      const out: Record<string, Json> = {};
      const props = (s.properties ?? {}) as S;
      for (const key of (s.required ?? []) as string[]) {
        const value = sample(props[key] ?? {}, root, depth + 1);
        out[key] = value === undefined ? "x" : value;
      }
      if (full) {
        let added = 0;
        for (const [key, prop] of Object.entries(props)) {
          if (key in out || added >= 3) continue;
          const p = resolve(prop, root);
          if (p.default !== undefined || Array.isArray(p.enum) || p.type === "boolean") {
            const value = sample(p, root, depth + 1);
            if (value !== undefined) {
              out[key] = value;
              added++;
            }
          }
        }
      }
      return out;
    }
    case "array": {
      const n = Math.max(0, s.minItems ?? 0);
      const items = Array.isArray(s.items) ? s.items : Array.from({ length: n }, () => s.items ?? {});
      return items.slice(0, Math.max(n, 0)).map((item: unknown) => sample(item, root, depth + 1) ?? "x");
    }
    case "string": {
      if (s.format && FORMATS[s.format]) return FORMATS[s.format];
      const min = s.minLength ?? 0;
      return "example".padEnd(min, "x");
    }
    case "integer":
      return typeof s.minimum === "number" ? Math.ceil(s.minimum) : 1;
    case "number":
      return typeof s.minimum === "number" ? s.minimum : 1;
    case "boolean":
      return true;
    case "null":
      return null;
    default:
      return undefined;
  }
}

export interface Generated {
  name: string;
  document: Json;
  /** The mistake, for the README of the folder. */
  note: string;
}

function misspell(key: string): string {
  return key.length > 3 ? key.slice(0, -2) + key.slice(-1) : `${key}s`;
}

function wrongValue(s: S): Json | undefined {
  switch (typeOf(s)) {
    case "string":
      return 42;
    case "boolean":
      return "yes";
    case "integer":
    case "number":
      return "3";
    case "array":
      return "a";
    case "object":
      return "a";
    default:
      return undefined;
  }
}

export function generate(schema: S): { valid: Generated[]; invalid: Generated[] } {
  const root = resolve(schema, schema);
  const minimal = sample(schema, schema);
  const full = sample(schema, schema, 0, true);
  const valid: Generated[] = [];
  if (minimal !== undefined)
    valid.push({ name: "minimal", document: minimal, note: "required properties only" });
  if (full !== undefined && JSON.stringify(full) !== JSON.stringify(minimal)) {
    valid.push({ name: "typical", document: full, note: "required properties and a few optional ones" });
  }
  const invalid: Generated[] = [];
  const base = (full ?? minimal) as Json;
  if (base && typeof base === "object" && !Array.isArray(base)) {
    const props = (root.properties ?? {}) as S;
    const required = (root.required ?? []) as string[];
    if (required[0]) {
      const { [required[0]]: _gone, ...rest } = base;
      invalid.push({ name: "missing-required", document: rest, note: `required "${required[0]}" left out` });
    }
    for (const [key, prop] of Object.entries(props)) {
      const p = resolve(prop, schema);
      if (Array.isArray(p.enum) && typeof p.enum[0] === "string" && p.enum.length > 1) {
        invalid.push({
          name: "enum-typo",
          document: {
            ...base,
            [key]:
              `${p.enum[0]}`.toUpperCase() === p.enum[0] ? `${p.enum[0]}x` : `${p.enum[0]}`.toUpperCase(),
          },
          note: `"${key}": an enum value mistyped`,
        });
        break;
      }
    }
    for (const [key, prop] of Object.entries(props)) {
      const p = resolve(prop, schema);
      if (p.oneOf || p.anyOf || Array.isArray(p.type)) continue;
      const wrong = wrongValue(p);
      if (wrong !== undefined) {
        invalid.push({
          name: "wrong-type",
          document: { ...base, [key]: wrong },
          note: `"${key}": ${JSON.stringify(wrong)}, wrong type`,
        });
        break;
      }
    }
    const keys = Object.keys(props);
    if (root.additionalProperties === false && keys[0]) {
      const typo = misspell(keys[0]);
      if (!(typo in props)) {
        invalid.push({
          name: "misspelt-property",
          document: { ...base, [typo]: true },
          note: `"${typo}" for "${keys[0]}" under additionalProperties: false`,
        });
      }
    }
  }
  if (typeOf(root) === "object")
    invalid.push({ name: "root-array", document: [], note: "an array where an object is expected" });
  return { valid, invalid };
}
