import { describe, expect, it } from "vitest";
import { canonicalJson, compileSchema, SchemaError, ValidationLimitError } from "./index";

const order = {
  $id: "https://example.com/order.json",
  type: "object",
  required: ["id", "customer"],
  properties: {
    id: { type: "string" },
    customer: { $ref: "#/$defs/customer" },
    tags: { type: "array", items: { type: "string", maxLength: 3 } },
  },
  $defs: {
    customer: {
      type: "object",
      required: ["email"],
      properties: { email: { type: "string", format: "email" }, age: { type: "integer", minimum: 0 } },
    },
  },
};

describe("output formats and locations", () => {
  it("flag reports only the verdict", async () => {
    const c = await compileSchema(order);
    expect(c.validate({ id: "a", customer: { email: "x@y.z" } }, { output: "flag" })).toEqual({
      valid: true,
    });
    expect(c.validate({ id: 1, customer: {} }, { output: "flag" })).toEqual({ valid: false });
  });

  it("basic lists located errors, through $ref", async () => {
    const c = await compileSchema(order);
    const r = c.validate({ id: 1, customer: { email: "x@y.z", age: -1 }, tags: ["ok", "toolong"] });
    expect(r.valid).toBe(false);
    expect(r.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          instanceLocation: "/id",
          keywordLocation: "/properties/id/type",
          absoluteKeywordLocation: "https://example.com/order.json#/properties/id/type",
          error: "must be string (got number)",
        }),
        expect.objectContaining({
          instanceLocation: "/customer/age",
          keywordLocation: "/properties/customer/$ref/properties/age/minimum",
          absoluteKeywordLocation: "https://example.com/order.json#/$defs/customer/properties/age/minimum",
        }),
        expect.objectContaining({
          instanceLocation: "/tags/1",
          keywordLocation: "/properties/tags/items/maxLength",
        }),
      ]),
    );
    expect(r.errors).toHaveLength(3);
  });

  it("detailed nests errors under the keywords that applied the subschemas", async () => {
    const c = await compileSchema({ anyOf: [{ type: "string" }, { type: "number", minimum: 5 }] });
    const r = c.validate(2, { output: "detailed" });
    expect(r).toMatchObject({
      valid: false,
      keywordLocation: "",
      instanceLocation: "",
      errors: [
        {
          keywordLocation: "/anyOf",
          // the branch the instance came closest to (a number, only too small) comes first
          error: "must match at least one of the subschemas (closest: branch 1)",
          params: { closestBranch: 1 },
          errors: [{ keywordLocation: "/anyOf/1/minimum" }, { keywordLocation: "/anyOf/0/type" }],
        },
      ],
    });
    // basic keeps the anyOf unit and its causes, flattened
    expect(c.validate(2).errors?.map((e) => e.keywordLocation)).toEqual([
      "/anyOf",
      "/anyOf/1/minimum",
      "/anyOf/0/type",
    ]);
  });

  it("caps errors and says so", async () => {
    const c = await compileSchema({ type: "array", items: { type: "string" } });
    const r = c.validate(
      Array.from({ length: 50 }, (_, i) => i),
      { maxErrors: 10 },
    );
    expect(r.errors).toHaveLength(10);
    expect(r.truncated).toBe(true);
    expect(c.validate([1, 2], { maxErrors: 10 }).truncated).toBeUndefined();
  });

  it("additionalProperties: false points at the extra property", async () => {
    const c = await compileSchema({ properties: { a: true }, additionalProperties: false });
    expect(c.validate({ a: 1, b: 2 }).errors).toEqual([
      expect.objectContaining({ instanceLocation: "/b", keywordLocation: "/additionalProperties" }),
    ]);
  });
});

describe("schema errors", () => {
  it("rejects a schema that is invalid against its metaschema", async () => {
    const e = await compileSchema({ type: "strin" }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(SchemaError);
    expect((e as SchemaError).kind).toBe("invalid_schema");
    expect((e as SchemaError).errors.length).toBeGreaterThan(0);
  });

  it("reports unresolvable references", async () => {
    const e = await compileSchema({ $ref: "#/$defs/missing" }).catch((x: unknown) => x);
    expect((e as SchemaError).kind).toBe("unresolvable_ref");
  });

  it("refuses a pattern too large for every bounded engine, naming where it is", async () => {
    const schema = { properties: { x: { pattern: "(?:a{1000}){1000}" } } };
    const e = await compileSchema(schema).catch((x: unknown) => x);
    expect((e as SchemaError).kind).toBe("unsupported");
    expect((e as SchemaError).message).toContain("at /properties/x");
    // lookaround and backreferences compile (the bounded backtracking matcher runs them)
    await compileSchema({ pattern: "^(a)\\1$" });
    await compileSchema({ pattern: "^(?=a)" });
  });

  it("picks the draft from $schema (draft-04 exclusiveMaximum is a boolean)", async () => {
    const c = await compileSchema({
      $schema: "http://json-schema.org/draft-04/schema#",
      maximum: 3,
      exclusiveMaximum: true,
    });
    expect(c.draft).toBe(4);
    expect(c.validate(3, { output: "flag" }).valid).toBe(false);
    expect(c.validate(2.5, { output: "flag" }).valid).toBe(true);
  });
});

describe("the draft comes from $schema; 2020-12 by default", () => {
  const DRAFT_06 = "http://json-schema.org/draft-06/schema#";
  const DRAFT_07 = "http://json-schema.org/draft-07/schema#";
  const DRAFT_2019 = "https://json-schema.org/draft/2019-09/schema";
  const DRAFT_2020 = "https://json-schema.org/draft/2020-12/schema";
  const verdict = async (schema: Record<string, unknown>, data: unknown, strictDialect = false) =>
    (await compileSchema(schema, { strictDialect })).validate(data, { output: "flag" }).valid;

  it("draft-06 knows no if/then (draft-07 added them): ignored when strict, applied by default", async () => {
    // Parsed rather than written as a literal: a `then` property makes an object look like a promise.
    const ifThen = JSON.parse('{"if": {"const": 1}, "then": false}') as Record<string, unknown>;
    expect((await compileSchema({ $schema: DRAFT_06, ...ifThen })).draft).toBe(6);
    expect(await verdict({ $schema: DRAFT_06, ...ifThen }, 1, true)).toBe(true);
    expect(await verdict({ $schema: DRAFT_06, ...ifThen }, 1)).toBe(false);
    expect(await verdict({ $schema: DRAFT_07, ...ifThen }, 1, true)).toBe(false);
  });

  it("2019-09 reads array-form items as a tuple and knows no prefixItems; 2020-12 the reverse", async () => {
    expect(await verdict({ $schema: DRAFT_2019, items: [{ type: "integer" }] }, ["x"])).toBe(false);
    expect(await verdict({ $schema: DRAFT_2019, prefixItems: [{ type: "integer" }] }, ["x"])).toBe(true);
    expect(await verdict({ $schema: DRAFT_2020, prefixItems: [{ type: "integer" }] }, ["x"])).toBe(false);
    // No $schema: 2020-12.
    expect((await compileSchema({ prefixItems: [{ type: "integer" }] })).draft).toBe(2020);
    expect(await verdict({ prefixItems: [{ type: "integer" }] }, ["x"])).toBe(false);
  });
});

describe("regular expressions cannot hang the isolate", () => {
  it("runs a catastrophic-backtracking pattern in linear time", async () => {
    const c = await compileSchema({ type: "string", pattern: "^(a+)+$" });
    const input = `${"a".repeat(42)}!`;
    const start = performance.now();
    expect(c.validate(input, { output: "flag" }).valid).toBe(false);
    expect(c.validate("a".repeat(10_000), { output: "flag" }).valid).toBe(true);
    expect(performance.now() - start).toBeLessThan(2000); // exponential backtracking would take hours; generous for a loaded CI machine
  });

  it("translates ECMA-262 classes (\\s is Unicode-aware, \\d ASCII only, \\p{L})", async () => {
    const ws = await compileSchema({ pattern: "^\\s$" });
    expect(ws.validate("\u00a0", { output: "flag" }).valid).toBe(true);
    const d = await compileSchema({ pattern: "^\\d+$" });
    expect(d.validate("\u0660", { output: "flag" }).valid).toBe(false);
    const l = await compileSchema({ pattern: "^\\p{L}+$" });
    expect(l.validate("héllo", { output: "flag" }).valid).toBe(true);
  });
});

describe("limits", () => {
  it("throws a typed error past the maximum depth", async () => {
    const c = await compileSchema({ $defs: { n: { items: { $ref: "#/$defs/n" } } }, $ref: "#/$defs/n" });
    let deep: unknown = [];
    for (let i = 0; i < 100; i++) deep = [deep];
    expect(() => c.validate(deep, { maxDepth: 64 })).toThrow(ValidationLimitError);
    expect(c.validate(deep, { maxDepth: 200 }).valid).toBe(true);
  });

  it("throws a typed error past the step budget", async () => {
    const c = await compileSchema({ items: { anyOf: [{ type: "string" }, { type: "number" }] } });
    const big = Array.from({ length: 5000 }, (_, i) => i);
    try {
      c.validate(big, { maxSteps: 1000 });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ValidationLimitError);
      expect((e as ValidationLimitError).kind).toBe("budget");
    }
  });

  it("turns a reference loop on the same instance into a limit error", async () => {
    const c = await compileSchema({
      $defs: { a: { $ref: "#/$defs/b" }, b: { $ref: "#/$defs/a" } },
      $ref: "#/$defs/a",
    });
    expect(() => c.validate(1)).toThrow(ValidationLimitError);
  });
});

describe("remote references", () => {
  it("resolves remote documents up front, cycles included", async () => {
    const docs: Record<string, unknown> = {
      "https://schemas.test/tree.json": {
        $id: "https://schemas.test/tree.json",
        type: "object",
        properties: { value: { type: "number" }, children: { type: "array", items: { $ref: "node.json" } } },
      },
      "https://schemas.test/node.json": {
        $id: "https://schemas.test/node.json",
        $ref: "tree.json",
      },
    };
    const fetched: string[] = [];
    const c = await compileSchema(
      { $ref: "https://schemas.test/tree.json" },
      {
        resolveRemote: async (uri) => {
          fetched.push(uri);
          return docs[uri];
        },
      },
    );
    expect(fetched.sort()).toEqual(["https://schemas.test/node.json", "https://schemas.test/tree.json"]);
    const tree = { value: 1, children: [{ value: 2, children: [{ value: "x", children: [] }] }] };
    const r = c.validate(tree);
    expect(r.valid).toBe(false);
    expect(r.errors?.[0]?.instanceLocation).toBe("/children/0/children/0/value");
    expect(r.errors?.[0]?.absoluteKeywordLocation).toBe(
      "https://schemas.test/tree.json#/properties/value/type",
    );
  });

  it("fails with unresolvable_ref when the fetcher refuses", async () => {
    const e = await compileSchema(
      { $ref: "http://169.254.169.254/latest" },
      {
        resolveRemote: async () => {
          throw new Error("address not allowed");
        },
      },
    ).catch((x: unknown) => x);
    expect((e as SchemaError).kind).toBe("unresolvable_ref");
    expect((e as SchemaError).message).toContain("address not allowed");
  });
});

describe("enrichment", () => {
  const schema = {
    type: "object",
    title: "Order",
    properties: {
      status: { type: "string", default: "pending", description: "Lifecycle state" },
      createdAt: { type: "string", format: "date-time" },
      email: { type: "string", format: "email", deprecated: true },
      site: { type: "string", format: "uri", readOnly: true, examples: ["https://a.example"] },
      password: { type: "string", description: "Set only", writeOnly: true },
    },
  };

  it("fills defaults, normalises formats and collects annotations for valid documents", async () => {
    const c = await compileSchema(schema);
    const doc = {
      createdAt: "2024-05-02T08:00:00+02:00",
      email: "Jane@Example.COM",
      site: "HTTPS://Shop.Example.com/P?q=A",
      password: "s3cret",
    };
    const r = c.validate(doc, { enrich: true });
    expect(r.valid).toBe(true);
    expect(r.data).toEqual({
      status: "pending",
      createdAt: "2024-05-02T06:00:00Z",
      email: "Jane@example.com",
      site: "https://shop.example.com/P?q=A",
      password: "s3cret",
    });
    expect(doc).not.toHaveProperty("status"); // the input is not modified
    expect(r.annotations?.[""]).toEqual({ title: "Order" });
    expect(r.annotations?.["/email"]).toEqual({ deprecated: true });
    expect(r.annotations?.["/site"]).toEqual({ readOnly: true, examples: ["https://a.example"] });
    expect(r.annotations?.["/password"]).toEqual({ description: "Set only", writeOnly: true });
  });

  it("chooses parts and never changes the verdict", async () => {
    const c = await compileSchema(schema);
    const only = c.validate({}, { enrich: { defaults: true, formats: false, annotations: false } });
    expect(only).toEqual({ valid: true, errors: undefined, data: { status: "pending" } });
    const bad = c.validate({ status: 1 }, { enrich: true });
    expect(bad.valid).toBe(false);
    expect(bad.data).toBeUndefined();
  });
});

describe("compiled schemas", () => {
  it("are immutable and reusable", async () => {
    const c = await compileSchema({ type: "integer" });
    expect(Object.isFrozen(c)).toBe(true);
    for (let i = 0; i < 3; i++) expect(c.validate(i, { output: "flag" }).valid).toBe(true);
  });

  it("track evaluated properties only when unevaluated* is used", async () => {
    expect((await compileSchema({ properties: { a: true } })).tracksEvaluation).toBe(false);
    const u = await compileSchema({ allOf: [{ properties: { a: true } }], unevaluatedProperties: false });
    expect(u.tracksEvaluation).toBe(true);
    expect(u.validate({ a: 1 }, { output: "flag" }).valid).toBe(true);
    expect(u.validate({ a: 1, b: 2 }).errors?.[0]?.instanceLocation).toBe("/b");
  });

  it("canonicalJson sorts keys and ignores number spelling", () => {
    expect(canonicalJson({ b: [1.0, { d: 1, c: 2 }], a: "x" })).toBe('{"a":"x","b":[1,{"c":2,"d":1}]}');
  });
});

describe("format names", () => {
  it("treats an Object.prototype member as an unknown format, asserted or not", async () => {
    const c = await compileSchema({ format: "hasOwnProperty" }, { formatAssertion: true });
    expect(c.validate("x")).toEqual({ valid: true });
    expect(c.validate("x", { enrich: true })).toMatchObject({ valid: true, data: "x" });
  });
});
