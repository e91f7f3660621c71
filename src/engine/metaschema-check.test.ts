import { describe, expect, it } from "vitest";
import { compileSchema } from "./compile-schema";
import { SchemaError, ValidationLimitError } from "./errors";
import { checkAgainstMetaschema } from "./metaschema-check";

const wide = (count: number, member: (i: number) => unknown, extra: Record<string, unknown> = {}) => ({
  type: "object",
  properties: Object.fromEntries(Array.from({ length: count }, (_, i) => [`p${i}`, member(i)])),
  ...extra,
});

/** Compiles with every object's keys "known" (as for a schema parsed in slices). */
function sliced(schema: unknown) {
  return {
    compiled: compileSchema(schema, { memberKeys: (object) => Object.keys(object), pause: async () => {} }),
  };
}

const outcome = (promise: Promise<unknown>) =>
  promise.then(
    () => "valid",
    (error: unknown) =>
      error instanceof SchemaError
        ? `${error.kind}: ${error.message}`
        : error instanceof ValidationLimitError
          ? `limit ${error.kind}`
          : String(error),
  );

describe("the metaschema check of a wide object of subschemas, member by member", () => {
  it("gives the verdict of one validation", async () => {
    const cases = [
      wide(5000, () => ({ type: "string", minLength: 1 })),
      // An invalid member far in, a nested wide object, invalid root keywords beside the wide one.
      wide(5000, (i) => (i === 4321 ? { minLength: -1 } : { type: "string" })),
      wide(3000, (i) => (i === 7 ? wide(2000, (j) => (j === 1999 ? { type: 5 } : {})) : {})),
      wide(3000, () => ({}), { required: "p0" }),
      { $defs: Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`d${i}`, { type: "integer" }])) },
      {
        $schema: "http://json-schema.org/draft-04/schema#",
        ...wide(2000, (i) => (i === 1500 ? true : { type: "string" })),
      },
      { $schema: "http://json-schema.org/draft-07/schema#", ...wide(2000, () => ({ type: "string" })) },
    ];
    for (const schema of cases) {
      const { compiled } = sliced(schema);
      expect(await outcome(compiled)).toBe(await outcome(compileSchema(schema)));
    }
  });

  it("pauses between slices, spending about the units of one validation", async () => {
    const meta = await compileSchema(
      { $ref: "https://json-schema.org/draft/2020-12/schema" },
      { validateSchema: false },
    );
    const schema = wide(20_000, () => ({ type: "string", minLength: 1 }));
    let pauses = 0;
    const check = await checkAgainstMetaschema(meta, schema, {
      maxUnits: 1e9,
      standard: true,
      memberKeys: (object) => Object.keys(object),
      pause: async () => {
        pauses++;
      },
    });
    const whole = meta.checkCounted(schema, 1e9);
    expect(check.valid).toBe(true);
    expect(pauses).toBeGreaterThan(2);
    expect(check.steps).toBeGreaterThan(whole.steps * 0.8);
    expect(check.steps).toBeLessThan(whole.steps * 1.2);
  });

  it("holds all the slices together to the check's cap (METASCHEMA_CHECK_MAX_UNITS)", async () => {
    const schema = wide(90_000, () => ({ type: "string", minLength: 1 }));
    const { compiled } = sliced(schema);
    await expect(compiled).rejects.toThrow("validation exceeded its budget of 300000 steps");
    await expect(compileSchema(schema)).rejects.toThrow("validation exceeded its budget of 300000 steps");
  });
});
