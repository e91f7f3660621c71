import { describe, expect, it } from "vitest";
import { COMPILE_UNITS_PER_SUBSCHEMA } from "./compile-budget";
import { compileSchema } from "./compile-schema";
import { RETAINED_BYTES_PER_NODE } from "./compiled-schema";
import { ValidationLimitError } from "./errors";

/** A schema of `count` small properties: `count` + 1 subschemas. */
function wide(count: number): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  for (let i = 0; i < count; i++) properties[`p${i}`] = { type: "string", minLength: 1 };
  return { type: "object", properties };
}

async function limitOf(promise: Promise<unknown>): Promise<string | undefined> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  return error instanceof ValidationLimitError ? error.kind : undefined;
}

describe("the compilation's own budget", () => {
  it("counts each compiled subschema: a schema that needs more units is refused as budget", async () => {
    const schema = wide(1000);
    expect(await limitOf(compileSchema(schema, { maxSteps: 500 * COMPILE_UNITS_PER_SUBSCHEMA }))).toBe(
      "budget",
    );
    const compiled = await compileSchema(schema, { maxSteps: 2000 * COMPILE_UNITS_PER_SUBSCHEMA });
    expect(compiled.footprint.nodes).toBe(1001);
  });

  it("counts the metaschema check: a tiny budget is spent before any subschema is compiled", async () => {
    expect(await limitOf(compileSchema(wide(200), { maxSteps: 50 }))).toBe("budget");
  });

  it("counts a custom metaschema the request brings: compiling it spends from the same budget", async () => {
    const meta = { $schema: "https://json-schema.org/draft/2020-12/schema", ...wide(1000) };
    const resolveRemote = async () => meta;
    const schema = { $schema: "https://example.org/meta", type: "object" };
    expect(
      await limitOf(compileSchema(schema, { resolveRemote, maxSteps: 500 * COMPILE_UNITS_PER_SUBSCHEMA })),
    ).toBe("budget");
    await expect(
      compileSchema(schema, { resolveRemote, maxSteps: 5000 * COMPILE_UNITS_PER_SUBSCHEMA }),
    ).resolves.toBeDefined();
  });

  it("bounds the compiled weight while compiling, before the memory is taken", async () => {
    const schema = wide(1000);
    const compiled = await compileSchema(schema);
    expect(await limitOf(compileSchema(schema, { maxRetainedBytes: compiled.retainedBytes - 1 }))).toBe(
      "compiled_schema_bytes",
    );
    expect(
      await limitOf(compileSchema(schema, { maxRetainedBytes: compiled.retainedBytes })),
    ).toBeUndefined();
    expect(compiled.retainedBytes).toBeGreaterThan(1000 * RETAINED_BYTES_PER_NODE);
  });
});
