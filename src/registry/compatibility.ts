/**
 * The compatibility report of a publish: what changed from the previous version, split into
 * changes that can make a previously valid document invalid (`breaking`) and changes that only
 * accept more (`widening`). The two schemas are walked side by side through the places a document
 * is checked at (properties, items, additional and pattern properties, definitions, and the
 * branches of allOf/anyOf/oneOf when their count is unchanged); at each place the assertions are
 * compared. Where a change cannot be decided (a different pattern, a changed `$ref`) it is
 * reported as breaking with `certain: false`. Linear in the two schemas' sizes, bounded in depth
 * and in the number of changes reported.
 */

export type ChangeKind =
  | "type_narrowed"
  | "type_widened"
  | "required_added"
  | "required_removed"
  | "property_removed"
  | "property_added"
  | "additional_properties_closed"
  | "additional_properties_opened"
  | "enum_narrowed"
  | "enum_widened"
  | "enum_added"
  | "enum_removed"
  | "const_changed"
  | "bound_tightened"
  | "bound_loosened"
  | "pattern_changed"
  | "pattern_removed"
  | "reference_changed"
  | "schema_false"
  | "subschema_added"
  | "unique_items_added";

export interface Change {
  /** JSON Pointer into the new version (into the old one for what it no longer has). */
  location: string;
  kind: ChangeKind;
  detail: string;
  /** False where the effect cannot be decided (patterns, references): it may break. */
  certain: boolean;
}

export interface CompatibilityReport {
  compatible: boolean;
  breaking: Change[];
  widening: Change[];
  /** More changes existed than are listed. */
  truncated?: boolean;
}

const MAX_CHANGES = 200;
const MAX_DEPTH = 64;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const pointerToken = (key: string) => key.replaceAll("~", "~0").replaceAll("/", "~1");

/** Lower bounds (a larger value accepts less) and upper bounds (a smaller value accepts less). */
const LOWER_BOUNDS = ["minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties", "minContains"];
const UPPER_BOUNDS = ["maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties", "maxContains"];
/** Subschema maps walked key by key, and single subschemas walked as one. */
const SCHEMA_MAPS = ["properties", "patternProperties", "$defs", "definitions", "dependentSchemas"];
const SINGLE_SCHEMAS = [
  "items",
  "additionalProperties",
  "additionalItems",
  "contains",
  "propertyNames",
  "if",
  "then",
  "else",
  "unevaluatedItems",
  "unevaluatedProperties",
];
const SCHEMA_LISTS = ["allOf", "anyOf", "oneOf", "prefixItems"];
/** Where a new subschema constrains what was unconstrained before (whether it breaks depends on it). */
const SUBSCHEMAS_THAT_CONSTRAIN = ["items", "additionalProperties", "propertyNames", "contains"];

function typesOf(schema: Json): Set<string> | undefined {
  const type = schema.type;
  if (typeof type === "string") return new Set([type]);
  if (Array.isArray(type)) return new Set(type.filter((t): t is string => typeof t === "string"));
  return undefined;
}

/** Whether a type set accepts `type` (integer is accepted by number). */
const accepts = (types: Set<string>, type: string) =>
  types.has(type) || (type === "integer" && types.has("number"));

const jsonText = (v: unknown) => JSON.stringify(v);

export function compareSchemas(previous: unknown, next: unknown): CompatibilityReport {
  const breaking: Change[] = [];
  const widening: Change[] = [];
  let truncated = false;
  const note = (list: Change[], change: Change) => {
    if (breaking.length + widening.length >= MAX_CHANGES) truncated = true;
    else list.push(change);
  };
  const breaks = (location: string, kind: ChangeKind, detail: string, certain = true) =>
    note(breaking, { location, kind, detail, certain });
  const widens = (location: string, kind: ChangeKind, detail: string) =>
    note(widening, { location, kind, detail, certain: true });

  const walk = (old: unknown, now: unknown, at: string, depth: number): void => {
    if (depth > MAX_DEPTH || truncated) return;
    if (now === false && old !== false) {
      breaks(at || "/", "schema_false", "now accepts nothing");
      return;
    }
    if (old === false && now !== false) {
      widens(at || "/", "schema_false", "accepted nothing before");
      return;
    }
    if (!isObject(old) || !isObject(now)) return;

    if (typeof old.$ref === "string" || typeof now.$ref === "string") {
      if (old.$ref !== now.$ref) {
        breaks(
          `${at}/$ref`,
          "reference_changed",
          `$ref ${jsonText(old.$ref)} is now ${jsonText(now.$ref)}`,
          false,
        );
      }
    }

    const oldTypes = typesOf(old);
    const newTypes = typesOf(now);
    if (newTypes && (!oldTypes || [...oldTypes].some((t) => !accepts(newTypes, t)))) {
      const lost = oldTypes ? [...oldTypes].filter((t) => !accepts(newTypes, t)) : ["any type"];
      breaks(`${at}/type`, "type_narrowed", `no longer accepts ${lost.join(", ")}`);
    } else if (oldTypes && (!newTypes || [...newTypes].some((t) => !accepts(oldTypes, t)))) {
      widens(
        `${at}/type`,
        "type_widened",
        `now also accepts ${newTypes ? [...newTypes].filter((t) => !accepts(oldTypes, t)).join(", ") : "any type"}`,
      );
    }

    const oldRequired = new Set(Array.isArray(old.required) ? old.required : []);
    const newRequired = new Set(Array.isArray(now.required) ? now.required : []);
    for (const name of newRequired) {
      if (!oldRequired.has(name))
        breaks(`${at}/required`, "required_added", `"${String(name)}" is now required`);
    }
    for (const name of oldRequired) {
      if (!newRequired.has(name))
        widens(`${at}/required`, "required_removed", `"${String(name)}" is no longer required`);
    }

    const closedNow = now.additionalProperties === false || now.unevaluatedProperties === false;
    const closedBefore = old.additionalProperties === false || old.unevaluatedProperties === false;
    const oldProperties = isObject(old.properties) ? old.properties : {};
    const newProperties = isObject(now.properties) ? now.properties : {};
    if (closedNow && !closedBefore) {
      breaks(
        `${at}/additionalProperties`,
        "additional_properties_closed",
        "properties not listed are now refused",
      );
    } else if (closedBefore && !closedNow) {
      widens(
        `${at}/additionalProperties`,
        "additional_properties_opened",
        "properties not listed are now accepted",
      );
    }
    if (closedNow) {
      for (const key of Object.keys(oldProperties)) {
        if (!Object.hasOwn(newProperties, key)) {
          breaks(
            `${at}/properties/${pointerToken(key)}`,
            "property_removed",
            `"${key}" is no longer allowed`,
          );
        }
      }
      for (const key of Object.keys(newProperties)) {
        if (!Object.hasOwn(oldProperties, key) && closedBefore) {
          widens(`${at}/properties/${pointerToken(key)}`, "property_added", `"${key}" is now allowed`);
        }
      }
    }

    if (Array.isArray(old.enum) && Array.isArray(now.enum)) {
      const allowed = new Set(now.enum.map(jsonText));
      const before = new Set(old.enum.map(jsonText));
      const lost = old.enum.map(jsonText).filter((v) => !allowed.has(v));
      const gained = now.enum.map(jsonText).filter((v) => !before.has(v));
      if (lost.length)
        breaks(`${at}/enum`, "enum_narrowed", `no longer allows ${lost.slice(0, 5).join(", ")}`);
      if (gained.length)
        widens(`${at}/enum`, "enum_widened", `now also allows ${gained.slice(0, 5).join(", ")}`);
    } else if (Array.isArray(now.enum)) {
      breaks(`${at}/enum`, "enum_added", "values are now restricted to a list");
    } else if (Array.isArray(old.enum)) {
      widens(`${at}/enum`, "enum_removed", "values are no longer restricted to a list");
    }
    if (
      Object.hasOwn(now, "const") &&
      (!Object.hasOwn(old, "const") || jsonText(old.const) !== jsonText(now.const))
    ) {
      breaks(`${at}/const`, "const_changed", `must now equal ${jsonText(now.const)}`);
    }

    for (const [bounds, tighter] of [
      [LOWER_BOUNDS, (a: number, b: number) => b > a],
      [UPPER_BOUNDS, (a: number, b: number) => b < a],
    ] as const) {
      for (const name of bounds) {
        const a = old[name];
        const b = now[name];
        if (typeof b === "number" && (typeof a !== "number" || tighter(a, b))) {
          breaks(`${at}/${name}`, "bound_tightened", `${name} ${typeof a === "number" ? `${a} → ` : ""}${b}`);
        } else if (typeof a === "number" && (typeof b !== "number" || tighter(b, a))) {
          widens(`${at}/${name}`, "bound_loosened", `${name} ${a} → ${typeof b === "number" ? b : "none"}`);
        }
      }
    }
    if (typeof now.multipleOf === "number" && old.multipleOf !== now.multipleOf) {
      breaks(
        `${at}/multipleOf`,
        "bound_tightened",
        `multipleOf ${jsonText(old.multipleOf)} → ${now.multipleOf}`,
        false,
      );
    }
    if (now.uniqueItems === true && old.uniqueItems !== true) {
      breaks(`${at}/uniqueItems`, "unique_items_added", "items must now be unique");
    }
    if (typeof now.pattern === "string" && now.pattern !== old.pattern) {
      breaks(
        `${at}/pattern`,
        "pattern_changed",
        `pattern ${jsonText(old.pattern)} is now ${jsonText(now.pattern)}`,
        typeof old.pattern !== "string",
      );
    } else if (typeof old.pattern === "string" && typeof now.pattern !== "string") {
      widens(`${at}/pattern`, "pattern_removed", "no pattern any more");
    }

    for (const map of SCHEMA_MAPS) {
      const a = isObject(old[map]) ? (old[map] as Json) : undefined;
      const b = isObject(now[map]) ? (now[map] as Json) : undefined;
      if (!a || !b) continue;
      for (const key of Object.keys(b)) {
        if (Object.hasOwn(a, key)) walk(a[key], b[key], `${at}/${map}/${pointerToken(key)}`, depth + 1);
      }
    }
    for (const key of SINGLE_SCHEMAS) {
      if (Object.hasOwn(old, key) && Object.hasOwn(now, key))
        walk(old[key], now[key], `${at}/${key}`, depth + 1);
      else if (Object.hasOwn(now, key) && SUBSCHEMAS_THAT_CONSTRAIN.includes(key) && isObject(now[key])) {
        breaks(`${at}/${key}`, "subschema_added", `${key} now has a schema of its own`, false);
      }
    }
    for (const key of SCHEMA_LISTS) {
      const a = old[key];
      const b = now[key];
      if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
        for (const [i, branch] of b.entries()) walk(a[i], branch, `${at}/${key}/${i}`, depth + 1);
      } else if (Array.isArray(b) && jsonText(a) !== jsonText(b)) {
        breaks(`${at}/${key}`, "reference_changed", `${key} changed its branches`, false);
      }
    }
  };
  walk(previous, next, "", 0);
  const report: CompatibilityReport = { compatible: breaking.length === 0, breaking, widening };
  if (truncated) report.truncated = true;
  return report;
}
