/**
 * Errors a person can act on, through POST /v1/validate(/batch) of the app factory against the real
 * local stack: schema warnings and "strict", SCHEMA_INVALID located in the customer's schema,
 * verdict errors with keyword/params/value/suggestion, line and column for `json` text, and
 * malformed request bodies answered with a position and a hint.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AccessHarness, problemOf, startAccessHarness, usageStream } from "../harness/access";

let harness: AccessHarness;
let token: string;

beforeAll(async () => {
  harness = await startAccessHarness({
    env: {
      RATE_LIMIT_TIERS: JSON.stringify({
        free: { limit: 5, windowSeconds: 10 },
        pro: { limit: 1000, windowSeconds: 10 },
      }),
      // Documents of over 512 KiB, for the texts parsed in slices.
      MAX_DOCUMENT_BYTES: String(2 * 1024 * 1024),
    },
  });
  token = (await harness.account("pro")).token;
});

afterAll(async () => {
  await harness?.stop();
});

async function post(body: string, path = "/v1/validate") {
  const response = await harness.request(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
    body,
  });
  await harness.settle();
  return response;
}

async function verdict(body: unknown, path?: string) {
  const response = await post(JSON.stringify(body), path);
  const json = (await response.json()) as Record<string, any>;
  expect(response.status, JSON.stringify(json)).toBe(200);
  return json;
}

const billed = async (response: Response) =>
  (await usageStream(harness))
    .filter((record) => record.request_id === response.headers.get("X-Request-Id"))
    .reduce((sum, record) => sum + Number(record.units), 0);

async function refusal(body: unknown, status: number, code: string) {
  const response = await post(typeof body === "string" ? body : JSON.stringify(body));
  const problem = (await problemOf(response)) as Record<string, any>;
  expect(response.status, JSON.stringify(problem)).toBe(status);
  expect(problem.code).toBe(code);
  expect(await billed(response)).toBe(0);
  return problem;
}

const typoSchema = {
  type: "object",
  properties: { id: { type: "integer" }, "x-internal": { type: "string" } },
  requried: ["id"],
  "x-owner": "team-a",
  markdownDescription: "**An order**",
};

describe("schema warnings", () => {
  it("a typo'd keyword validates (as the standard says) but is warned about, with the suggestion", async () => {
    const result = await verdict({ schema: typoSchema, data: {} });
    expect(result).toMatchObject({ valid: true, units: 1 });
    expect(result.warnings).toEqual([
      {
        code: "unknown_keyword",
        schemaLocation: "/requried",
        keyword: "requried",
        suggestion: "required",
        message: '"requried" is not a draft 2020-12 keyword: it is ignored; did you mean "required"?',
      },
    ]);
  });

  it('"strict": true refuses it as 422 SCHEMA_INVALID listing the warnings, not billed', async () => {
    const problem = await refusal({ schema: typoSchema, data: {}, strict: true }, 422, "SCHEMA_INVALID");
    expect(problem.schemaLocation).toBe("/requried");
    expect(problem.detail).toContain('did you mean "required"?');
    expect(problem.warnings).toHaveLength(1);
  });

  it("formats, type-specific keywords beside another type, draft-07 $ref siblings, later-draft keywords", async () => {
    const schema = {
      $schema: "http://json-schema.org/draft-07/schema#",
      definitions: { id: { type: "string" } },
      properties: {
        mail: { type: "string", format: "e-mail" },
        count: { type: "integer", minLength: 1 },
        ref: { $ref: "#/definitions/id", maxLength: 3 },
        tuple: { prefixItems: [{ type: "string" }] },
      },
    };
    const result = await verdict({ schema, data: { ref: "abcdef" } });
    // The draft-07 $ref ignores its maxLength sibling: valid, and the warning says why.
    expect(result.valid).toBe(true);
    expect(result.warnings.map((w: any) => [w.code, w.schemaLocation, w.suggestion])).toEqual([
      ["keyword_without_effect", "/properties/count/minLength", undefined],
      ["unknown_format", "/properties/mail/format", "email"],
      ["ref_sibling_ignored", "/properties/ref/maxLength", undefined],
      ["keyword_not_in_draft", "/properties/tuple/prefixItems", undefined],
    ]);
  });

  it("a clean schema has no warnings member; a batch carries the schema's warnings once", async () => {
    expect(await verdict({ schema: { type: "integer" }, data: 1 })).toEqual({ valid: true, units: 1 });
    const batch = await verdict({ schema: { propertes: {} }, documents: [1, 2] }, "/v1/validate/batch");
    expect(batch.warnings).toEqual([
      expect.objectContaining({ keyword: "propertes", suggestion: "properties" }),
    ]);
    expect(batch.results).toEqual([{ valid: true }, { valid: true }]);
  });
});

describe("SCHEMA_INVALID", () => {
  it('names /properties/name/type, the bad value and suggests "string" for "strng"', async () => {
    const problem = await refusal(
      { schema: { properties: { name: { type: "strng" } } }, data: {} },
      422,
      "SCHEMA_INVALID",
    );
    expect(problem).toMatchObject({
      schemaLocation: "/properties/name/type",
      keyword: "enum",
      value: "strng",
      allowedValues: ["array", "boolean", "integer", "null", "number", "object", "string"],
      suggestion: 'Did you mean "string"?',
    });
    expect(problem.detail).toMatch(
      /^The schema is invalid at \/properties\/name\/type: "strng" must be one of/,
    );
    // The metaschema's full output stays available.
    expect(problem.errors.length).toBeGreaterThan(1);
  });
});

describe("verdict errors", () => {
  it("required points at the missing property with params.missingProperty", async () => {
    const schema = { properties: { customer: { required: ["email", "name"] } } };
    const result = await verdict({ schema, data: { customer: { emial: "a@b.c", name: "A" } } });
    expect(result.errors).toEqual([
      {
        valid: false,
        keyword: "required",
        keywordLocation: "/properties/customer/required",
        absoluteKeywordLocation: "#/properties/customer/required",
        instanceLocation: "/customer/email",
        error: 'must have required property "email"',
        params: { missingProperty: "email" },
        suggestion: 'The document has "emial": did you mean "email"?',
      },
    ]);
  });

  it("enum and const: allowedValues, the value and a near-miss suggestion", async () => {
    const schema = { properties: { status: { enum: ["active", "inactive", "banned"] } } };
    const [error] = (await verdict({ schema, data: { status: "Active" } })).errors;
    expect(error).toMatchObject({
      keyword: "enum",
      instanceLocation: "/status",
      value: "Active",
      params: { allowedValues: ["active", "inactive", "banned"] },
      suggestion: 'Did you mean "active"?',
    });
  });

  it("a failing oneOf names its closest branch and lists that branch's errors first", async () => {
    const schema = {
      oneOf: [
        { type: "object", properties: { kind: { const: "card" } }, required: ["kind", "number"] },
        { type: "object", properties: { kind: { const: "bank" } }, required: ["kind", "iban"] },
      ],
    };
    const result = await verdict({ schema, data: { kind: "bank", ibn: "DE00" } });
    const [oneOf, first] = result.errors;
    expect(oneOf).toMatchObject({ keyword: "oneOf", params: { closestBranch: 1 } });
    expect(oneOf.error).toContain("closest: branch 1");
    expect(first).toMatchObject({
      keywordLocation: "/oneOf/1/required",
      params: { missingProperty: "iban" },
      suggestion: 'The document has "ibn": did you mean "iban"?',
    });
  });

  it("json text: every error carries the line and column of its instance, in basic and detailed", async () => {
    const schema = {
      properties: {
        id: { type: "integer" },
        items: { items: { properties: { qty: { minimum: 1 } }, required: ["sku"] } },
      },
    };
    const json = '{\n  "id": "x",\n  "items": [\n    {"sku": "a", "qty": 0},\n    {"qty": 2}\n  ]\n}';
    const basic = await verdict({ schema, json });
    const at = (pointer: string) => basic.errors.find((e: any) => e.instanceLocation === pointer);
    expect(at("/id")).toMatchObject({ line: 2, column: 9, value: "x", params: { type: "integer" } });
    expect(at("/items/0/qty")).toMatchObject({ line: 4, column: 25, params: { limit: 1 } });
    // A missing property is placed at the object that lacks it.
    expect(at("/items/1/sku")).toMatchObject({ line: 5, column: 5 });
    const detailed = await verdict({ schema, json, output: "detailed" });
    const leaves: any[] = [];
    const walk = (units: any[]) => {
      for (const u of units) u.errors ? walk(u.errors) : leaves.push(u);
    };
    walk(detailed.errors);
    expect(leaves.length).toBe(3);
    for (const leaf of leaves) expect(leaf).toEqual(expect.objectContaining({ line: expect.any(Number) }));
    // The same document as data: no positions.
    const asData = await verdict({ schema, data: JSON.parse(json) });
    expect(asData.errors.some((e: any) => "line" in e)).toBe(false);
  });
});

describe("malformed request bodies", () => {
  it("a trailing comma: 400 with line, column and the hint", async () => {
    const problem = await refusal(
      '{\n  "schema": {"type": "integer"},\n  "data": 1,\n}',
      400,
      "MALFORMED_JSON",
    );
    expect(problem).toMatchObject({ line: 4, column: 1 });
    expect(problem.hint).toContain("Trailing comma");
    expect(problem.detail).toContain("line 4, column 1");
  });

  it("single quotes and unquoted keys", async () => {
    expect((await refusal("{'schema': {}, 'data': 1}", 400, "MALFORMED_JSON")).hint).toContain(
      "double quotes",
    );
    expect((await refusal('{schema: {}, "data": 1}', 400, "MALFORMED_JSON")).hint).toContain(
      "must be quoted",
    );
  });

  // Bodies over PARSE_AT_ONCE_CHARS (512 KiB) are parsed in slices that share the thread.
  const wide = (count: number) => ({
    type: "object",
    properties: Object.fromEntries(Array.from({ length: count }, (_, i) => [`p${i}`, { type: "integer" }])),
  });

  it("a body of over 512 KiB gets the verdict a small one gets", async () => {
    const data = Object.fromEntries(
      Array.from({ length: 40_000 }, (_, i) => [`p${i}`, i === 7 ? "seven" : i]),
    );
    const body = { schema: { type: "object", additionalProperties: { type: "integer" } }, data };
    expect(JSON.stringify(body).length).toBeGreaterThan(512 * 1024);
    const json = await verdict(body);
    expect(json.valid).toBe(false);
    expect(json.errors).toEqual([expect.objectContaining({ instanceLocation: "/p7", keyword: "type" })]);
  });

  it("a multi-MB body malformed near its end: 400 with the line, column and hint", async () => {
    const text = JSON.stringify({ schema: wide(40_000), data: 1 }, null, 1).replace(/\n}$/, ",\n}");
    const problem = await refusal(text, 400, "MALFORMED_JSON");
    const lines = text.split("\n");
    expect(problem).toMatchObject({ line: lines.length, column: 1 });
    expect(problem.hint).toContain("Trailing comma");
  });

  it("a multi-MB body nested deeper than any schema may be: 422 before it is built", async () => {
    const text = `{"schema": ${"[".repeat(100)}${"0,".repeat(300_000)}0${"]".repeat(100)}, "data": 1}`;
    const problem = await refusal(text, 422, "LIMIT_EXCEEDED");
    expect(problem.limit).toBe("max_depth");
  });

  it("a multi-MB `json` document malformed deep inside: its line and column", async () => {
    const document = JSON.stringify(
      Array.from({ length: 35_000 }, (_, i) => ({ i })),
      null,
      1,
    ).replace('"i": 30000', '"i": 30000,');
    expect(document.length).toBeGreaterThan(512 * 1024);
    const problem = await refusal({ schema: { type: "array" }, json: document }, 422, "DOCUMENT_NOT_JSON");
    const before = document.slice(0, document.indexOf('"i": 30000,') + '"i": 30000,'.length);
    const lines = before.split("\n");
    expect(problem).toMatchObject({ line: lines.length + 1 });
  });

  it("a schema sent as a string holding JSON", async () => {
    const problem = await refusal(
      { schema: JSON.stringify({ type: "integer" }), data: 1 },
      400,
      "BAD_REQUEST",
    );
    expect(problem.hints).toEqual([expect.stringContaining('"schema" is a string holding JSON')]);
    expect(problem.errors[0].pointer).toBe("/schema");
  });
});
