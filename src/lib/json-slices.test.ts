import { describe, expect, it } from "vitest";
import {
  JsonTooDeep,
  memberKeysOf,
  PARSE_AT_ONCE_CHARS,
  parseJsonInSlices,
  parseJsonTextInSlices,
  sourceTextOf,
} from "./json-slices";
import { stringifyInSlices } from "./json-stringify-slices";
import { syntaxErrorOffset } from "./json-text";

/** A deterministic pseudo-random generator, so a failure can be replayed. */
function random(seed: number) {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

/** A random JSON value of about `chars` characters: nested objects and arrays, awkward keys. */
function randomValue(next: () => number, chars: number, depth = 0): unknown {
  const pick = next();
  if (chars < 40 || depth > 12) {
    if (pick < 0.2) return Math.floor(next() * 1e6) - 5e5;
    if (pick < 0.3) return next() * 1e-3;
    if (pick < 0.4) return [true, false, null][Math.floor(next() * 3)];
    return ["", 'a"b', "\\", "\u2028", "é", "\n\t", "x".repeat(Math.floor(next() * 30))][
      Math.floor(next() * 7)
    ];
  }
  const count = 1 + Math.floor(next() * 40);
  const share = chars / count;
  if (pick < 0.5) return Array.from({ length: count }, () => randomValue(next, share, depth + 1));
  const keys = ["__proto__", "constructor", "0", "10", "2", "a", "a", "toString", "é", 'k"q', ""];
  const out: Record<string, unknown> = {};
  for (let i = 0; i < count; i++) {
    const key =
      next() < 0.3 ? (keys[Math.floor(next() * keys.length)] as string) : `k${Math.floor(next() * 1e4)}`;
    Object.defineProperty(out, key, {
      value: randomValue(next, share, depth + 1),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/** JSON text with whitespace between tokens and duplicate keys, which JSON.stringify never writes. */
function untidy(text: string): string {
  return text.replace(/([,:[{])/g, "$1 \n\t").replace(/"k1(\d)":/g, '"dup":1,"dup":');
}

const same = (a: unknown, b: unknown) => {
  // Own keys in order, __proto__ included: what JSON.parse made.
  expect(JSON.stringify(b)).toBe(JSON.stringify(a));
  expect(structuredClone(b)).toEqual(structuredClone(a));
};

describe("parseJsonInSlices", () => {
  it("gives what JSON.parse gives, for large random texts", async () => {
    const next = random(7);
    let compared = 0;
    for (let round = 0; round < 6; round++) {
      const text = untidy(JSON.stringify(randomValue(next, 700_000)));
      if (text.length <= PARSE_AT_ONCE_CHARS) continue;
      same(JSON.parse(text), await parseJsonInSlices(text, { maxDepth: 100 }));
      compared++;
    }
    expect(compared).toBeGreaterThanOrEqual(4);
  });

  it("keeps an own __proto__ key, the last of duplicate keys in the first one's place, and integer keys first", async () => {
    const members = Array.from(
      { length: 40_000 },
      (_, i) => `"m${i}":{"__proto__":{"x":${i}},"b":1,"b":2,"1":0}`,
    );
    const text = `{"__proto__":[1],${members.join(",")},"z":"${"q".repeat(80_000)}","__proto__":{"polluted":true}}`;
    const parsed = (await parseJsonInSlices(text, { maxDepth: 10 })) as Record<string, unknown>;
    same(JSON.parse(text), parsed);
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
    expect(Object.keys(parsed)[0]).toBe("__proto__");
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(parsed.m5 as object)).toEqual(["1", "__proto__", "b"]);
  });

  it("hands the thread over while parsing a multi-MB text", async () => {
    const text = JSON.stringify({
      schema: {
        properties: Object.fromEntries(
          Array.from({ length: 90_000 }, (_, i) => [`p${i}`, { type: "string" }]),
        ),
      },
    });
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    const parsed = await parseJsonInSlices(text, { maxDepth: 10 });
    clearInterval(timer);
    same(JSON.parse(text), parsed);
    expect(ticks).toBeGreaterThan(3);
  });

  it("refuses nesting deeper than the limit before building anything", async () => {
    const deep = `${"[".repeat(2000)}${"0,".repeat(300_000)}0${"]".repeat(2000)}`;
    await expect(parseJsonInSlices(deep, { maxDepth: 1000 })).rejects.toBeInstanceOf(JsonTooDeep);
    expect(await parseJsonTextInSlices(deep, 1000)).toEqual({ ok: false, tooDeep: true });
    // At the limit itself: parsed.
    const atLimit = `${"[".repeat(999)}[${"0,".repeat(300_000)}0]${"]".repeat(999)}`;
    same(JSON.parse(atLimit), await parseJsonInSlices(atLimit, { maxDepth: 1000 }));
  });

  it("finds the first syntax error, where the scanner of small texts finds it", async () => {
    const valid = JSON.stringify({
      a: Array.from({ length: 60_000 }, (_, i) => ({ i, s: `v${i}` })),
      b: "x".repeat(100_000),
      c: Array.from({ length: 40_000 }, (_, i) => i),
    });
    const breaks: Array<(text: string) => string> = [
      (t) => t.replace('"i":30000,', '"i":30000,,'), // structure, deep in a large array
      (t) => t.replace('"s":"v100"', '"s":"v\u0001"'), // a control character inside a run
      (t) => t.replace('{"i":5,"s":"v5"}', '{"i":05,"s":"v5"}'), // a bad number, early; a later error too
      (t) => `${t.replace("39999]", "39999,]")}`, // a trailing comma
      (t) => t.slice(0, -3), // ends early
      (t) => `${t} x`, // trailing garbage
      (t) => t.replace('"b":', '"b" '), // a missing colon
      (t) => t.replace('"b":"x', '"b":tru"x'),
    ];
    for (const breakIt of breaks) {
      const text = breakIt(valid);
      expect(() => JSON.parse(text)).toThrow();
      const result = await parseJsonTextInSlices(text, 100);
      expect(result.ok).toBe(false);
      if (result.ok || "tooDeep" in result) throw new Error("expected a syntax error");
      expect(result.error.offset).toBe(syntaxErrorOffset(text));
    }
  });

  it("stringifyInSlices writes what JSON.stringify writes, with pauses for what it assembled", async () => {
    const next = random(11);
    const value = await parseJsonInSlices(untidy(JSON.stringify(randomValue(next, 900_000))), {
      maxDepth: 100,
    });
    expect(await stringifyInSlices(value)).toBe(JSON.stringify(value));
    const wide = await parseJsonInSlices(
      JSON.stringify({
        p: Object.fromEntries(Array.from({ length: 90_000 }, (_, i) => [`p${i}`, { t: i }])),
      }),
      { maxDepth: 10 },
    );
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    const text = await stringifyInSlices(wide);
    clearInterval(timer);
    expect(text).toBe(JSON.stringify(wide));
    expect(ticks).toBeGreaterThan(1);
    // Not built by parseJsonInSlices: one JSON.stringify.
    for (const plain of [{ a: [1, "x", null] }, "s", 1, null, undefined])
      expect(await stringifyInSlices(plain)).toBe(JSON.stringify(plain));
  });

  it("sourceTextOf gives an assembled container's text as sent, and nothing for other values", async () => {
    const text = ` {"a": [ ${Array.from({ length: 60_000 }, (_, i) => `{"i" : ${i}}`).join(" ,\n")} ], "b": {"c": 1}} `;
    const value = (await parseJsonInSlices(text, { maxDepth: 10 })) as { a: unknown[]; b: unknown };
    expect(sourceTextOf(value)).toBe(text.trim());
    expect(sourceTextOf(value.a)).toBe(text.slice(text.indexOf("["), text.lastIndexOf("]") + 1));
    expect(JSON.parse(sourceTextOf(value.a) as string)).toEqual(value.a);
    // Small containers (parsed natively) and values not parsed here have none.
    expect(sourceTextOf(value.b)).toBeUndefined();
    expect(sourceTextOf(JSON.parse(text))).toBeUndefined();
    expect(sourceTextOf("s")).toBeUndefined();
  });

  it("memberKeysOf gives an assembled object's keys as Object.keys lists them", async () => {
    const members = Array.from({ length: 30_000 }, (_, i) => `"k${i % 20_000}": {"i": ${i}}`);
    const text = `{"wide": {${members.join(", ")}, "__proto__": 1}, "digits": {${members.join(", ")}, "7": 0}}`;
    const value = (await parseJsonInSlices(text, { maxDepth: 10 })) as Record<string, object>;
    // Repeated keys keep their first place (as with JSON.parse); an own __proto__ is a key.
    expect(memberKeysOf(value.wide)).toEqual(Object.keys(JSON.parse(text).wide));
    expect(memberKeysOf(value.wide)).toHaveLength(20_001);
    expect(memberKeysOf(value)).toEqual(["wide", "digits"]);
    // An array-index key is listed first by Object.keys: not recorded.
    expect(memberKeysOf(value.digits)).toBeUndefined();
    expect(memberKeysOf(JSON.parse(text))).toBeUndefined();
  });

  it("sourceTextOf of a small copy of an assembled object joins its members' texts", async () => {
    const text = `{"schema": {"type": "object", "properties": {${Array.from({ length: 25_000 }, (_, i) => `"p${i}": {"type" : "string"}`).join(", ")}}}}`;
    const body = (await parseJsonInSlices(text, { maxDepth: 10 })) as { schema: Record<string, unknown> };
    // What z.record makes of the body's schema: a new object holding the same members.
    const copy = { ...body.schema };
    const joined = sourceTextOf(copy) as string;
    expect(joined.startsWith('{"type":"object","properties":{"p0": {"type" : "string"}')).toBe(true);
    expect(JSON.parse(joined)).toEqual(body.schema);
    // Without an assembled member, or with too many members to look at: none.
    expect(sourceTextOf({ type: "object", properties: {} })).toBeUndefined();
    const wide = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, 1]));
    expect(sourceTextOf({ ...wide, properties: body.schema.properties })).toBeUndefined();
  });

  it("parses texts up to PARSE_AT_ONCE_CHARS and scalars with JSON.parse itself", async () => {
    expect(await parseJsonInSlices(' {"a":1} ', { maxDepth: 1 })).toEqual({ a: 1 });
    const big = JSON.stringify("s".repeat(PARSE_AT_ONCE_CHARS * 2));
    expect(await parseJsonInSlices(big, { maxDepth: 1 })).toBe(JSON.parse(big));
  });
});
