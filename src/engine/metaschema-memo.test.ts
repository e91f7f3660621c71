import { describe, expect, it } from "vitest";
import { compileSchema } from "./compile-schema";
import { ValidationLimitError } from "./errors";
import { memoiseSubschemaVerdicts } from "./metaschema-memo";
import { BUNDLED, DRAFT_URIS } from "./registry";

const leaves = [
  { type: "string", format: "uuid" },
  { type: "string", minLength: -1 },
  { type: "integer", minimum: 1, maximum: 5 },
  { enum: ["a", 1, null, true] },
  { type: ["string", "number", "boolean"] },
  { required: ["a", "a"] },
  { type: "strin" },
  { $ref: "#/$defs/x", additionalProperties: false },
  { minimum: Number.NaN },
  { minimum: -0 },
  // Of one hash (numbers hash by their first 14 bits of fraction): told apart member by member.
  { minLength: 1 },
  { minLength: 1.00001 },
  {},
];
/** `levels` schemas nested in `items`: around the check's depth limit (64) with the memo's sizes. */
function nested(levels: number): unknown {
  let schema: unknown = { type: "string" };
  for (let i = 0; i < levels; i++) schema = { items: schema, minItems: 1 };
  return schema;
}

const schemas = [
  ...[4, 8, 9, 30, 62, 63, 64, 65, 70].map(nested),
  ...leaves,
  { type: "object", properties: Object.fromEntries(leaves.map((leaf, i) => [`p${i}`, leaf])) },
  { items: leaves, $defs: { a: leaves[0], b: { allOf: leaves.slice(0, 4) } } },
  { anyOf: [{ type: "string" }, { type: "string" }, { not: { type: "string" } }] },
];

/** checkCounted's verdict and units, or the limit it throws. */
function outcome(check: () => { valid: boolean; steps: number }): string {
  try {
    return JSON.stringify(check());
  } catch (error) {
    return error instanceof ValidationLimitError ? `limit ${error.kind}` : String(error);
  }
}

describe("the memo of a standard metaschema's subschema verdicts", () => {
  it.each(Object.values(DRAFT_URIS))(
    "gives the verdict and units of the check it replays (%s)",
    async (uri) => {
      const document = BUNDLED.get(uri);
      const plain = await compileSchema(document, { validateSchema: false });
      const memoised = await compileSchema(document, { validateSchema: false });
      memoiseSubschemaVerdicts(memoised.rootNode());
      // Twice: the second pass replays what the first remembered.
      for (let pass = 0; pass < 2; pass++) {
        for (const schema of schemas) {
          const expected = outcome(() => plain.checkCounted(schema, 300_000));
          expect(outcome(() => memoised.checkCounted(schema, 300_000))).toBe(expected);
          // At the budget's edge too: a replay must not pass where the check runs out, nor the reverse.
          if (expected.startsWith("limit")) continue;
          const steps = (JSON.parse(expected) as { steps: number }).steps;
          for (const max of [steps - 2, steps - 1, steps, steps + 1, steps + 1024]) {
            expect(outcome(() => memoised.checkCounted(schema, max))).toBe(
              outcome(() => plain.checkCounted(schema, max)),
            );
          }
        }
      }
    },
  );

  it("leaves the located errors of an invalid schema as they were", async () => {
    const document = BUNDLED.get(DRAFT_URIS[2020]);
    const plain = await compileSchema(document, { validateSchema: false });
    const memoised = await compileSchema(document, { validateSchema: false });
    memoiseSubschemaVerdicts(memoised.rootNode());
    const schema = { properties: { a: { minLength: -1 }, b: { minLength: -1 } } };
    memoised.checkCounted(schema, 300_000);
    expect(memoised.validate(schema, { output: "basic" })).toEqual(
      plain.validate(schema, { output: "basic" }),
    );
  });
});
