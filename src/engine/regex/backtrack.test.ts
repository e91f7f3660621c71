import { describe, expect, it } from "vitest";
import type { WorkBudget } from "../budget";
import { ValidationLimitError } from "../errors";
import { compileProgram, search } from "./backtrack";
import { compilePattern, MAX_STEPS_PER_MATCH, patternCacheStats, withLocation } from "./index";
import { parse } from "./parse";

// The bounded backtracking matcher against the host's RegExp (u-mode): every pattern below runs on
// the matcher directly (whatever engine compilePattern would pick) over its listed inputs and a
// fixed pseudo-random set of short strings over the pattern's own alphabet.

const PATTERNS: Array<{ pattern: string; inputs?: string[] }> = [
  // real schemas
  { pattern: "^(?!@@)[\\w@]+$", inputs: ["@@a", "@a", "abc", "", "a b"] },
  { pattern: "^(?!\\.{1,2}$)(?!.*\\/)[a-zA-Z0-9\\-\\._]+$", inputs: [".", "..", "...", "a/b", "a.b"] },
  { pattern: "^(?!(?:meta|local)$).*$", inputs: ["meta", "local", "metal", ""] },
  {
    pattern: "^(?!.*\\bnative\\b)[a-zA-Z][a-zA-Z0-9_]*(\\.[a-zA-Z][a-zA-Z0-9_]*)+$",
    inputs: ["a.b", "a.native", "native.a", "a.natives", "a", "x.native_1"],
  },
  // literals, classes, escapes
  { pattern: "abc" },
  { pattern: "^a.c$", inputs: ["a\nc", "a\u2028c", "a😀c", "abc"] },
  { pattern: "[^a-c]+" },
  { pattern: "^[\\d\\s-]+$", inputs: ["1 2-3", "1\u00a02", "x"] },
  { pattern: "\\w+\\W" },
  { pattern: "^\\p{L}+$", inputs: ["été", "abc", "a1", "ж"] },
  { pattern: "^\\P{Lu}*$", inputs: ["abc", "aBc", ""] },
  { pattern: "^[\\p{N}a]+$", inputs: ["a٣1", "b"] },
  { pattern: "\\u{1F600}|\\uD83D\\uDE01", inputs: ["😀", "😁", "x"] },
  { pattern: "^[😀-😂]$", inputs: ["😁", "😃", "\uD83D"] },
  { pattern: "^.$", inputs: ["\uD83D", "😀", "\uDE00\uD83D"] },
  { pattern: "\\x41\\cJ\\0", inputs: ["A\n\0", "A\n0"] },
  { pattern: "^[]$|^[^]$", inputs: ["", "\n", "ab"] },
  // quantifiers
  { pattern: "^a*?b" },
  { pattern: "^(a+?)(b*)$" },
  { pattern: "^a{2,3}$" },
  { pattern: "^(?:ab){2,}$" },
  { pattern: "^(?:a|ab)(?:c|bcd)(d*)$" },
  { pattern: "(a|ab)(c|bcd)(d*)" },
  { pattern: "^(a?){3}a{3}$" },
  { pattern: "^(?:a*)*$" },
  { pattern: "^(?:a?)+?b$" },
  { pattern: "^(?:|a)+$" },
  { pattern: "a{0}b" },
  { pattern: "^(?:){99999999}a(?:(?:)|){2}$" },
  // groups and alternation
  { pattern: "^(?:cat|dog)s?$" },
  { pattern: "^(a|b|)+c$" },
  { pattern: "^(?<y>\\d{2})-(?<m>\\d{2})$", inputs: ["12-34", "1-2"] },
  // anchors and word boundaries
  { pattern: "\\bab\\b" },
  { pattern: "\\Ba\\B" },
  { pattern: "^$" },
  { pattern: "a$|^b" },
  // lookahead
  { pattern: "a(?=b)" },
  { pattern: "a(?!b)" },
  { pattern: "^(?=.*a)(?=.*b).*$" },
  { pattern: "^(?=(a+))a*b\\1$" },
  { pattern: "(?=(a+?))(\\1)b" },
  { pattern: "^(?!(a)b)\\1?a" },
  // lookbehind
  { pattern: "(?<=a)b" },
  { pattern: "(?<!a)b" },
  { pattern: "(?<=^|-)a" },
  { pattern: "(?<=(a+))b\\1" },
  { pattern: "(?<=\\1(a))b" },
  { pattern: "(?<=a(?=b)b)c", inputs: ["abc", "ac", "bc"] },
  { pattern: "(?<!^)\\b", inputs: ["ab", "a b", ""] },
  // backreferences
  { pattern: "^(a|b)\\1$" },
  { pattern: "^(a*)b\\1$" },
  { pattern: "\\1(a)" },
  { pattern: "^(?:(a)|b)\\1$" },
  { pattern: "^(?:(a)|(b))+\\1\\2$" },
  { pattern: "(z)((a+)?(b+)?(c))*\\3", inputs: ["zaacbbbcac", "zcac"] },
  { pattern: "^(?<q>['\"]).*\\k<q>$", inputs: ["'a'", "\"a'", '""'] },
  { pattern: "^(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)\\10$", inputs: ["abcdefghijj", "abcdefghija0"] },
];

function alphabet(pattern: string): string[] {
  const chars = new Set<string>(["a", "b", "-", " "]);
  for (const c of pattern) if (/[a-z0-9.\-@_/ '"]/.test(c)) chars.add(c);
  return [...chars];
}

function inputs(pattern: string, extra: string[] = []): string[] {
  let seed = 7;
  for (const c of pattern) seed = (seed * 31 + (c.codePointAt(0) as number)) >>> 0;
  const next = () => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed >>> 8;
  };
  const abc = alphabet(pattern);
  const out = new Set<string>(["", ...extra]);
  while (out.size < 60) {
    let s = "";
    const n = next() % 9;
    for (let k = 0; k < n; k++) s += abc[next() % abc.length];
    out.add(s);
  }
  return [...out];
}

const free = { charge: () => {} };
const matcher = (pattern: string) => {
  const program = compileProgram(pattern, parse(pattern));
  return (s: string) => search(program, s, free);
};

describe("backtracking matcher: agrees with the host's RegExp", () => {
  it.each(PATTERNS)("$pattern", ({ pattern, inputs: extra }) => {
    const native = new RegExp(pattern, "u");
    const test = matcher(pattern);
    for (const s of inputs(pattern, extra)) expect(test(s), JSON.stringify(s)).toBe(native.test(s));
  });
});

/** A budget that counts what is spent and throws once `limit` is passed, as the evaluator's. */
function countingBudget(limit: number): WorkBudget & { spent: number } {
  const budget = {
    spent: 0,
    spend(units: number) {
      budget.spent += units;
      if (budget.spent > limit) throw new ValidationLimitError("budget", "out of budget", limit);
    },
  };
  return budget;
}

// Catastrophic patterns on long inputs: each either answers (RE2, linear) or stops at its budget,
// well within the generous wall-time bound (the budget is counted, not timed).
const CATASTROPHIC: Array<{ pattern: string; input: string; engine: string }> = [
  { pattern: "^(a+)+$", input: `${"a".repeat(40)}!`, engine: "re2" },
  { pattern: "^(a|a)*$", input: `${"a".repeat(40)}!`, engine: "re2" },
  { pattern: "(a|aa)+$", input: `${"a".repeat(40)}!`, engine: "re2" },
  { pattern: "^(?=(a+)+$)", input: `${"a".repeat(40)}!`, engine: "backtrack" },
  { pattern: "^(a*)*\\1$", input: `${"a".repeat(5000)}!`, engine: "backtrack" },
  { pattern: "(?<=^(a+)+)b", input: `!${"a".repeat(40)}b`, engine: "backtrack" },
  { pattern: "^(?!(a|aa)+$)", input: `${"a".repeat(40)}!`, engine: "backtrack" },
  { pattern: "(x+x+)+y\\1", input: "x".repeat(60), engine: "backtrack" },
];

describe("backtracking matcher: bounded work", () => {
  const BUDGET = 200_000;
  it.each(CATASTROPHIC)("$pattern on $input.length chars ($engine)", ({ pattern, input, engine }) => {
    const compiled = compilePattern(pattern);
    expect(compiled.engine).toBe(engine);
    const budget = countingBudget(BUDGET);
    const start = performance.now();
    let outcome: unknown;
    try {
      outcome = compiled.test(input, budget);
    } catch (e) {
      outcome = e;
    }
    expect(performance.now() - start).toBeLessThan(2000);
    if (engine === "re2") expect(outcome).toBe(false);
    else {
      expect(outcome).toBeInstanceOf(ValidationLimitError);
      expect((outcome as ValidationLimitError).kind).toBe("regex_budget");
      expect((outcome as ValidationLimitError).message).toContain(JSON.stringify(pattern));
    }
    // what was spent stops just past the budget
    expect(budget.spent).toBeLessThan(BUDGET + 2048);
  });

  it("stops at MAX_STEPS_PER_MATCH without a budget", () => {
    const start = performance.now();
    expect(() => compilePattern("^(?=(a+)+$)").test(`${"a".repeat(40)}!`)).toThrow(/needed more work/);
    expect(performance.now() - start).toBeLessThan(MAX_STEPS_PER_MATCH / 1000);
  });

  it("spends its actual steps: small for a typical match", () => {
    const budget = countingBudget(1_000_000);
    expect(compilePattern("^(?!@@)[\\w@]+$").test("user@example", budget)).toBe(true);
    expect(budget.spent).toBeGreaterThan(10);
    expect(budget.spent).toBeLessThan(200);
  });

  it("a long input within budget answers (linear patterns stay linear on the matcher)", () => {
    const budget = countingBudget(2_000_000);
    expect(compilePattern("^(?!@@)[\\w@]+$").test("a".repeat(100_000), budget)).toBe(true);
    expect(compilePattern("(?<=a)b").test("a".repeat(100_000), budget)).toBe(false);
  });

  it("names the schema location in the budget error", () => {
    const located = withLocation(compilePattern("^(?=(a+)+$)"), " at /properties/x");
    expect(() => located.test(`${"a".repeat(40)}!`, countingBudget(1000))).toThrow(
      'pattern "^(?=(a+)+$)" at /properties/x needed more work',
    );
  });
});

describe("native and RE2 paths spend a cost bound", () => {
  it("native: (length + 1) × factor", () => {
    const budget = countingBudget(1e9);
    const compiled = compilePattern("^[a-z]+$");
    expect(compiled.engine).toBe("native");
    compiled.test("a".repeat(999), budget);
    expect(budget.spent).toBe(2000);
  });

  it("RE2: proportional to the input", () => {
    const budget = countingBudget(1e9);
    compilePattern("(a|b)*c").test("ab".repeat(500), budget);
    expect(budget.spent).toBeGreaterThanOrEqual(1001);
  });

  it("the budget error of the native path is the request's ('budget')", () => {
    expect(() => compilePattern("^[a-z]+$").test("a".repeat(10_000), countingBudget(100))).toThrow(
      expect.objectContaining({ kind: "budget" }),
    );
  });

  it("unanchored .{50000}x is not run natively (12 s before), and is refused as too large", () => {
    expect(() => compilePattern(".{50000}x")).toThrow(/too large/);
    const anchored = compilePattern("^.{50000}x");
    expect(anchored.engine).toBe("native");
    const start = performance.now();
    expect(anchored.test("a".repeat(100_000))).toBe(false);
    expect(performance.now() - start).toBeLessThan(1000);
  });
});

describe("refusals", () => {
  it("a pattern nested deeper than the parser's limit", () => {
    expect(() => compilePattern(`${"(".repeat(300)}a(?=b)${")".repeat(300)}`)).toThrow(/nested too deeply/);
  });
});

describe("pattern cache", () => {
  it("is bounded by bytes as well as count", () => {
    for (let k = 0; k < 300; k++) compilePattern(`^(?:x${k}){900}(?=y)`);
    const { entries, bytes } = patternCacheStats();
    expect(bytes).toBeLessThanOrEqual(8 * 1024 * 1024);
    expect(entries).toBeLessThan(300);
  });
});
