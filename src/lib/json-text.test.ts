import { describe, expect, it, vi } from "vitest";
import { parseJsonInSlices } from "./json-slices";
import { exceedsDepth, exceedsDepthSharing, locatePointers, parseJsonText } from "./json-text";

describe("parseJsonText", () => {
  it("parses valid JSON", () => {
    expect(parseJsonText('{"a":[1,2]}')).toEqual({ ok: true, value: { a: [1, 2] } });
  });

  it("locates a syntax error by line and column", () => {
    const result = parseJsonText('{\n  "a": 1,\n  "b": tru\n}');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.line).toBe(3);
    expect(result.error.column).toBe(8);
    expect(result.error.message).not.toMatch(/position/);
  });

  it("places an unexpected end at the end of the text", () => {
    const result = parseJsonText('{"a": [1, 2');
    expect(result).toMatchObject({ ok: false, error: { line: 1, column: 12 } });
  });
});

describe("exceedsDepth", () => {
  const nested = (depth: number) => {
    let value: unknown = 1;
    for (let i = 0; i < depth; i++) value = i % 2 ? [value] : { k: value };
    return value;
  };

  it("counts object and array nesting", () => {
    expect(exceedsDepth(nested(3), 3)).toBe(false);
    expect(exceedsDepth(nested(4), 3)).toBe(true);
    expect(exceedsDepth("scalar", 0)).toBe(false);
  });

  it("walks into an own __proto__ key (JSON.parse makes one) instead of the prototype", () => {
    expect(exceedsDepth(JSON.parse('{"__proto__": [[[1]]]}'), 3)).toBe(true);
    expect(exceedsDepth(JSON.parse('{"__proto__": [[1]]}'), 3)).toBe(false);
  });

  it("handles nesting far deeper than the call stack allows", () => {
    expect(exceedsDepth(nested(200_000), 64)).toBe(true);
  });

  it("exceedsDepthSharing answers the same, pausing on large values", async () => {
    const wide = (depth: number) =>
      Array.from({ length: 30_000 }, (_, i) => (i === 29_999 ? nested(depth) : { i }));
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    expect(await exceedsDepthSharing(wide(10), 11)).toBe(false);
    expect(await exceedsDepthSharing(wide(11), 11)).toBe(true);
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(0);
    for (const value of [nested(3), nested(4), "scalar"])
      expect(await exceedsDepthSharing(value, 3)).toBe(exceedsDepth(value, 3));
  });

  it("walks a small copy of a value parsed in slices (zod's record copy) by its recorded keys", async () => {
    const members = Object.fromEntries(Array.from({ length: 60_000 }, (_, i) => [`m${i}`, { i }]));
    const parsed = (await parseJsonInSlices(JSON.stringify({ $defs: members }), { maxDepth: 64 })) as object;
    const copy = { ...parsed };
    const values = vi.spyOn(Object, "values");
    try {
      expect(await exceedsDepthSharing(copy, 3)).toBe(false);
      expect(await exceedsDepthSharing(copy, 2)).toBe(true);
      // The wide member's 60,000 children are looked at across pauses, never in one Object.values.
      expect(values.mock.calls.some(([value]) => Object.keys(value as object).length > 64)).toBe(false);
    } finally {
      values.mockRestore();
    }
  });
});

describe("syntax error offsets agree with the grammar", () => {
  it.each([
    ['{"a":1,}', 7],
    ["[1,2", 4],
    ['{"a" 1}', 5],
    ["[01]", 2],
    ['"tab\there"', 4],
    ['"bad \\x escape"', 5],
    ["[1] x", 4],
    ["", 0],
    ["nul", 0],
  ])("%j fails at %i", (text, offset) => {
    expect(parseJsonText(text)).toMatchObject({ ok: false, error: { offset } });
  });
});

describe("locatePointers", () => {
  const text =
    '{\n  "id": 5,\n  "items": [\n    {"sku": "a\\"}", "qty": 0},\n    {"qty": -1.5e3}\n  ],\n  "a/b": {"c~d": [true, null, {"e": "x"}]},\n  "u\\u00e9": [[], {}, "\\\\"]\n}';

  it("gives each value's line and column, through escaped keys, strings and nesting", () => {
    expect(JSON.parse(text)).toBeTruthy();
    const at = locatePointers(text, [
      "",
      "/id",
      "/items/0/qty",
      "/items/1/qty",
      "/a~1b/c~0d/2/e",
      "/a~1b/c~0d/1",
      "/ué/1",
      "/ué/2",
    ]);
    expect(Object.fromEntries(at)).toEqual({
      "": { line: 1, column: 1 },
      "/id": { line: 2, column: 9 },
      "/items/0/qty": { line: 4, column: 28 },
      "/items/1/qty": { line: 5, column: 13 },
      "/a~1b/c~0d/2/e": { line: 7, column: 37 },
      "/a~1b/c~0d/1": { line: 7, column: 25 },
      "/ué/1": { line: 8, column: 19 },
      "/ué/2": { line: 8, column: 23 },
    });
  });

  it("places a missing member at its nearest existing parent", () => {
    const at = locatePointers(text, ["/items/1/sku", "/nope/deeper"]);
    expect(at.get("/items/1/sku")).toEqual({ line: 5, column: 5 });
    expect(at.get("/nope/deeper")).toEqual({ line: 1, column: 1 });
  });

  it("takes the last of duplicate keys, as JSON.parse does", () => {
    expect(locatePointers('{"a": 1, "a": 2}', ["/a"]).get("/a")).toEqual({ line: 1, column: 15 });
  });
});
