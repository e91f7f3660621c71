import { describe, expect, it } from "vitest";
import { exceedsDepth, parseJsonText } from "./json-text";

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
