import { describe, expect, it } from "vitest";
import { compileSchema, ValidationLimitError } from "./index";

// Flag mode checks closed records (flag-object-check.ts) and small objects under `properties`
// (properties.ts) by walking the instance's keys with position hints (key-hints.ts). Their verdict
// must be the one the error-collecting path gives, whatever the instance's key order, shape or
// origin; the budget still counts every key walked.

async function verdicts(schema: unknown, instances: unknown[]): Promise<Array<[boolean, boolean]>> {
  const compiled = await compileSchema(schema);
  return instances.map((instance) => [
    compiled.validate(instance, { output: "flag" }).valid,
    compiled.validate(instance, { output: "basic" }).valid,
  ]);
}

const closed = {
  type: "object",
  additionalProperties: false,
  required: ["id", "name"],
  properties: { id: { type: "integer" }, name: { type: "string" }, note: { type: "string" } },
};

describe("flag-mode key walks", () => {
  it("give the basic verdict on closed records, in any key order and shape", async () => {
    const instances = [
      { id: 1, name: "a" },
      { name: "a", id: 1 },
      { id: 1, name: "a", note: "n" },
      { note: "n", name: "a", id: 1 },
      { id: 1 },
      { name: "a" },
      {},
      { id: 1, name: "a", extra: true },
      { extra: true, id: 1, name: "a" },
      { id: "1", name: "a" },
      { id: 1, name: 2 },
      [],
      "not an object",
      null,
    ];
    // Twice over, so that the second pass runs on the hints the first one left.
    const result = await verdicts(closed, [...instances, ...instances]);
    const expected = [
      true,
      true,
      true,
      true,
      false,
      false,
      false,
      false,
      false,
      false,
      false,
      false,
      false,
      false,
    ];
    expect(result.map(([flag]) => flag)).toEqual([...expected, ...expected]);
    for (const [flag, basic] of result) expect(flag).toBe(basic);
  });

  it("give the basic verdict on objects that do not come from JSON.parse", async () => {
    const undefinedValue = { id: 1, name: "a", note: undefined };
    const missingRequired = { id: 1, name: undefined };
    const hidden = Object.defineProperty({ id: 1 }, "name", { value: "a", enumerable: false });
    const inherited = Object.assign(Object.create({ name: "a" }), { id: 1 });
    const result = await verdicts(closed, [undefinedValue, missingRequired, hidden, inherited]);
    for (const [flag, basic] of result) expect(flag).toBe(basic);
  });

  it("finds required names past the walk's limit and in objects with many keys", async () => {
    const open = {
      required: ["z"],
      properties: { a: { type: "string" }, z: { type: "number" } },
    };
    const wide = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`k${i}`, i]));
    const result = await verdicts(open, [
      { ...wide, z: 1 },
      { ...wide, z: "1" },
      { ...wide, a: 1, z: 1 },
      { ...wide },
      { z: 1, a: "x" },
      { a: 1 },
    ]);
    expect(result.map(([flag]) => flag)).toEqual([true, false, false, false, true, false]);
    for (const [flag, basic] of result) expect(flag).toBe(basic);
    const names = Array.from({ length: 40 }, (_, i) => `p${i}`);
    const record = {
      additionalProperties: false,
      required: ["p39"],
      properties: Object.fromEntries(names.map((name) => [name, { type: "number" }])),
    };
    const all = Object.fromEntries(names.map((name, i) => [name, i]));
    const { p39: _, ...withoutLast } = all;
    const closedResult = await verdicts(record, [all, withoutLast, { ...all, p39: "x" }, { p39: 1 }]);
    expect(closedResult.map(([flag]) => flag)).toEqual([true, false, false, true]);
    for (const [flag, basic] of closedResult) expect(flag).toBe(basic);
  });

  it("stays right when a recursive schema re-enters the same check mid-walk", async () => {
    const tree = {
      $defs: {
        node: {
          type: "object",
          additionalProperties: false,
          required: ["value"],
          properties: {
            value: { type: "number" },
            left: { $ref: "#/$defs/node" },
            right: { $ref: "#/$defs/node" },
          },
        },
      },
      $ref: "#/$defs/node",
    };
    const leaf = (value: unknown) => ({ value });
    const result = await verdicts(tree, [
      { left: { right: leaf(1), value: 2 }, value: 3, right: leaf(4) },
      { value: 3, left: { value: 2, right: { value: "x" } } },
      { right: { left: leaf(1), value: 2, extra: 0 }, value: 3 },
      { left: leaf(1), right: { left: {}, value: 2 }, value: 3 },
    ]);
    expect(result.map(([flag]) => flag)).toEqual([true, false, false, false]);
    for (const [flag, basic] of result) expect(flag).toBe(basic);
  });

  // 1,000 records of 64 keys: a unit per key walked and one per value checked, about 129,000 units;
  // without the walk's units they would fit in 100,000.
  it("counts each key walked of a closed record against the budget", async () => {
    const compiled = await compileSchema({
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        properties: Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`p${i}`, true])),
      },
    });
    const full = Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`p${i}`, i]));
    const documents = Array.from({ length: 1000 }, () => full);
    expect(compiled.validate(documents, { output: "flag", maxSteps: 1_000_000 }).valid).toBe(true);
    expect(() => compiled.validate(documents, { output: "flag", maxSteps: 100_000 })).toThrow(
      ValidationLimitError,
    );
  });
});
