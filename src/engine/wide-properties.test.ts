import { describe, expect, it } from "vitest";
import { compileSchema } from "./compile-schema";

const members = (count: number) =>
  Object.fromEntries(
    Array.from({ length: count }, (_, i) => [`p${i}`, { type: i % 2 ? "string" : "integer" }]),
  );

describe("a wide `properties` whose keys are known (parsed in slices)", () => {
  it("is compiled with its nodes handed out in slices, to the same verdicts", async () => {
    const schema = { type: "object", properties: members(5000), required: ["p4999"] };
    let pauses = 0;
    const sliced = await compileSchema(schema, {
      memberKeys: (object) => Object.keys(object),
      pause: async () => {
        pauses++;
      },
    });
    const whole = await compileSchema(schema);
    const documents = [{ p0: 1, p1: "a", p4999: "z" }, { p0: "x", p4999: "z" }, { p1: 1 }, { p4998: "no" }];
    for (const document of documents) {
      expect(sliced.validate(document, { output: "basic" })).toEqual(
        whole.validate(document, { output: "basic" }),
      );
    }
    expect(sliced.validate(documents[0]).valid).toBe(true);
    expect(sliced.validate(documents[1]).valid).toBe(false);
    expect(pauses).toBeGreaterThan(2);
  });

  it("over the work budget: refused before its nodes are made", async () => {
    const schema = { properties: members(30_000) };
    const options = { memberKeys: (object: object) => Object.keys(object), pause: async () => {} };
    // validateSchema false: the metaschema check would reach its own cap first.
    await expect(
      compileSchema(schema, { ...options, validateSchema: false, maxSteps: 2_000_000 }),
    ).rejects.toThrow("compiling the schema needs more than 2000000 work units");
  });
});
