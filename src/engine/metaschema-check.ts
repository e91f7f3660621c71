import type { CompiledSchema } from "./compiled-schema";
import { ValidationLimitError } from "./errors";
import { isObject, type JsonObject } from "./json";

/**
 * Keywords whose value is an object of subschemas, each of which the standard metaschemas check
 * against their own root (`additionalProperties` of `$dynamicRef: "#meta"`, `$recursiveRef: "#"`
 * or `$ref: "#"`), with nothing said of the member names that the metaschema check asserts.
 */
const OBJECT_OF_SCHEMAS = ["properties", "patternProperties", "$defs", "definitions", "dependentSchemas"];

/** Members past which an object of subschemas whose keys are known is checked member by member. */
const WIDE_MEMBERS = 1_000;

/** Units of checking between two pauses: a few ms here. */
const CHECK_SLICE_UNITS = 40_000;

/**
 * The metaschema check (flag verdict and units spent), in slices that share the thread.
 *
 * One validation cannot pause, and a schema whose `properties` has 90,000 members is one long
 * stretch of it (up to the `maxUnits` cap, 30-100 ms here, a third of it enumerating the object).
 * With a standard metaschema, such a wide object of subschemas (one parsed in slices, whose keys
 * are known without enumerating it) is checked as what the metaschema makes of it: the schema with that
 * object emptied (its type is still checked), then each member against the metaschema's root,
 * pausing between slices; one unit a member stands for enumerating it. The verdict is the one
 * validation's, and so is the cap, on all the units together. A custom metaschema (which may say
 * anything of members) is checked in one validation.
 */
export async function checkAgainstMetaschema(
  meta: CompiledSchema,
  schema: unknown,
  options: {
    maxUnits: number;
    standard: boolean;
    pause?: () => Promise<void>;
    /** Keys of objects known without enumerating them (parsed in slices): only those are wide. */
    memberKeys?: (object: object) => readonly string[] | undefined;
  },
): Promise<{ valid: boolean; steps: number }> {
  const { maxUnits, pause, memberKeys } = options;
  if (!options.standard || pause === undefined || memberKeys === undefined)
    return meta.checkCounted(schema, maxUnits);
  let spent = 0;
  let sliceStart = 0;
  const check = async (value: unknown): Promise<boolean> => {
    const wide = isObject(value) ? wideMembers(value, memberKeys) : undefined;
    if (wide === undefined) {
      const counted = countedCheck(meta, value, maxUnits, spent);
      spent += counted.steps;
      return counted.valid;
    }
    const emptied: JsonObject = { ...(value as JsonObject) };
    for (const keyword of wide.keys()) emptied[keyword] = {};
    if (!(await check(emptied))) return false;
    for (const { object, keys } of wide.values()) {
      for (const key of keys) {
        spent += 1;
        // Indexing reads an own "__proto__" member as itself.
        if (!(await check(object[key]))) return false;
        if (spent - sliceStart >= CHECK_SLICE_UNITS) {
          await pause();
          sliceStart = spent;
        }
      }
    }
    return true;
  };
  const valid = await check(schema);
  return { valid, steps: spent };
}

/** The wide objects of subschemas of `schema` and their keys, by keyword; undefined when none. */
function wideMembers(
  schema: JsonObject,
  memberKeys: (object: object) => readonly string[] | undefined,
): Map<string, { object: JsonObject; keys: readonly string[] }> | undefined {
  let wide: Map<string, { object: JsonObject; keys: readonly string[] }> | undefined;
  for (const keyword of OBJECT_OF_SCHEMAS) {
    const value = schema[keyword];
    if (!isObject(value)) continue;
    // An object whose keys are not known is small (its text under 64 KiB): checked at once.
    const keys = memberKeys(value);
    if (keys === undefined || keys.length <= WIDE_MEMBERS) continue;
    wide ??= new Map();
    wide.set(keyword, { object: value, keys });
  }
  return wide;
}

/** One validation within what is left of `maxUnits` after `spent`; past it, the cap's error. */
function countedCheck(meta: CompiledSchema, value: unknown, maxUnits: number, spent: number) {
  const overCap = () =>
    new ValidationLimitError("budget", `validation exceeded its budget of ${maxUnits} steps`, maxUnits);
  if (spent >= maxUnits) throw overCap();
  try {
    return meta.checkCounted(value, maxUnits - spent);
  } catch (error) {
    // Named by the cap on all the units, not by what was left of it.
    if (error instanceof ValidationLimitError && error.kind === "budget") throw overCap();
    throw error;
  }
}
