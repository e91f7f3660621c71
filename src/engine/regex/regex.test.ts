import { describe, expect, it } from "vitest";
import { compilePattern, isValidEcmaRegex, MAX_PATTERN_LENGTH, RegexError } from "./index";
import { complement, intersects, normalize } from "./ranges";
import { translate } from "./translate";

// Every construct the translator accepts, rewrites or refuses. For accepted patterns each sample is
// also run through the native ECMA engine: the translation must agree with it, whichever engine runs.

interface Accepted {
  pattern: string;
  /** The engine compilePattern picks: native only when the linearity proof succeeds. */
  engine: "native" | "re2" | "backtrack";
  /** The RE2 text, where the rewrite is the point of the row. */
  re2?: string;
  match: string[];
  noMatch: string[];
}

const ACCEPTED: Accepted[] = [
  // literals and escapes
  { pattern: "abc", engine: "native", re2: "abc", match: ["abc", "xabcx"], noMatch: ["ab", "acb"] },
  { pattern: "\\/", engine: "native", re2: "\\x{2f}", match: ["a/b"], noMatch: ["ab"] },
  { pattern: "\\x41\\u0042", engine: "native", re2: "\\x{41}\\x{42}", match: ["AB"], noMatch: ["ab"] },
  { pattern: "\\u{1F600}", engine: "native", re2: "\\x{1f600}", match: ["😀"], noMatch: ["😁"] },
  { pattern: "\\uD83D\\uDE00", engine: "native", re2: "\\x{1f600}", match: ["😀"], noMatch: ["x"] },
  { pattern: "\\cJ", engine: "native", re2: "\\x{a}", match: ["\n"], noMatch: ["J"] },
  { pattern: "\\t\\n\\r", engine: "native", re2: "\\x{9}\\x{a}\\x{d}", match: ["\t\n\r"], noMatch: ["tnr"] },
  { pattern: "\\0", engine: "native", re2: "\\x{0}", match: ["\0"], noMatch: ["0"] },
  // character classes
  {
    pattern: "^[a-z]+$",
    engine: "native",
    re2: "^[\\x{61}-\\x{7a}]+$",
    match: ["abc"],
    noMatch: ["aBc", ""],
  },
  { pattern: "^[^0-9]$", engine: "native", match: ["a", "é"], noMatch: ["5", "ab"] },
  { pattern: "^[\\w.-]+@", engine: "native", match: ["a.b-c@x"], noMatch: ["a b@x", "@x"] },
  { pattern: "^[\\b]$", engine: "native", re2: "^[\\x{8}]$", match: ["\b"], noMatch: ["b"] },
  { pattern: "^[]$", engine: "native", match: [], noMatch: ["", "a"] },
  { pattern: "^[^]$", engine: "native", match: ["a", "\n"], noMatch: ["", "ab"] },
  {
    pattern: "^[\\p{L}\\d]+$",
    engine: "re2",
    re2: "^[\\p{L}\\x{30}-\\x{39}]+$",
    match: ["é1"],
    noMatch: ["-"],
  },
  // \d \w \s and their complements
  { pattern: "^\\d{3}-\\d{4}$", engine: "native", match: ["555-1234"], noMatch: ["555-123", "５５５-1234"] },
  { pattern: "^\\D+$", engine: "native", match: ["abc"], noMatch: ["a1"] },
  { pattern: "^\\w+$", engine: "native", match: ["a_1"], noMatch: ["é", "a-b"] },
  { pattern: "^\\W$", engine: "native", match: ["-", "é"], noMatch: ["a"] },
  { pattern: "^\\s$", engine: "native", match: [" ", "\u00a0", "\u2028", "\ufeff"], noMatch: ["a"] },
  { pattern: "^\\S+$", engine: "native", match: ["abc"], noMatch: ["a b", "a\u3000"] },
  { pattern: "[^\\s]+", engine: "re2", match: ["a"], noMatch: [" ", ""] },
  // word boundaries (not single-character atoms: RE2)
  { pattern: "\\bfoo\\b", engine: "re2", re2: "\\bfoo\\b", match: ["a foo b", "foo"], noMatch: ["food"] },
  { pattern: "\\Bo\\B", engine: "re2", match: ["foo b"], noMatch: ["o"] },
  // Unicode properties
  { pattern: "^\\p{Lu}\\p{Ll}*$", engine: "re2", match: ["Élan", "A"], noMatch: ["élan"] },
  { pattern: "\\p{Letter}", engine: "re2", re2: "\\p{L}", match: ["ж"], noMatch: ["1"] },
  { pattern: "^\\P{N}$", engine: "re2", re2: "^\\P{N}$", match: ["a"], noMatch: ["7", "٣"] },
  { pattern: "^\\p{gc=Nd}$", engine: "re2", re2: "^\\p{Nd}$", match: ["7"], noMatch: ["a"] },
  { pattern: "^\\p{Script=Greek}+$", engine: "re2", re2: "^\\p{Greek}+$", match: ["αβ"], noMatch: ["ab"] },
  { pattern: "^\\p{ASCII}$", engine: "re2", match: ["a"], noMatch: ["é"] },
  { pattern: "^\\p{Any}$", engine: "re2", match: ["😀"], noMatch: [""] },
  // quantifiers
  { pattern: "^a{2}$", engine: "native", match: ["aa"], noMatch: ["a", "aaa"] },
  { pattern: "^a{2,}$", engine: "native", match: ["aa", "aaaa"], noMatch: ["a"] },
  { pattern: "^a{1,3}b$", engine: "native", match: ["ab", "aaab"], noMatch: ["aaaab", "b"] },
  { pattern: "^a?b$", engine: "native", match: ["b", "ab"], noMatch: ["aab"] },
  { pattern: "x*?y", engine: "re2", re2: "x*?y", match: ["xxy", "y"], noMatch: ["x"] },
  { pattern: "a+b", engine: "re2", match: ["aab"], noMatch: ["ba"] },
  // anchors and the dot
  { pattern: "^.$", engine: "native", match: ["a", "😀"], noMatch: ["\n", "\u2028", "ab"] },
  { pattern: "^abc$", engine: "native", match: ["abc"], noMatch: ["abcd", "xabc"] },
  { pattern: "b$", engine: "native", match: ["ab"], noMatch: ["ba"] },
  // groups and alternation
  { pattern: "(a|b)*c", engine: "re2", re2: "(a|b)*c", match: ["abac", "c"], noMatch: ["ab"] },
  { pattern: "^(?:ab)+$", engine: "re2", match: ["abab"], noMatch: ["aba"] },
  {
    pattern: "^(?<year>\\d{4})$",
    engine: "re2",
    re2: "^(?P<year>\\d{4})$",
    match: ["2024"],
    noMatch: ["24"],
  },
  { pattern: "^cat|dog$", engine: "re2", match: ["cats", "hotdog"], noMatch: ["cow"] },
  // the linear-native proof: variable atoms whose characters cannot start what follows
  { pattern: "^[a-z]*[0-9]+$", engine: "native", match: ["abc12", "1"], noMatch: ["abc"] },
  { pattern: "^a*a$", engine: "re2", match: ["aaa"], noMatch: ["b"] },
  { pattern: "^a*b?a$", engine: "re2", match: ["aba", "a"], noMatch: ["bb"] },
  { pattern: "[a-z]+", engine: "re2", match: ["1a"], noMatch: ["12"] },
  { pattern: "^(a+)+$", engine: "re2", match: ["aaaa"], noMatch: ["aaa!"] },
  // unanchored fixed-length: native only when short (each position costs the length)
  { pattern: "a{32}", engine: "native", match: ["a".repeat(33)], noMatch: ["a".repeat(31)] },
  { pattern: ".{33}x", engine: "re2", match: [`${"a".repeat(40)}x`], noMatch: ["ax"] },
  { pattern: "^.{500}x", engine: "native", match: [`${"a".repeat(500)}x`], noMatch: ["ax"] },
  // what RE2 cannot run: the bounded backtracking matcher
  { pattern: "(?=a)", engine: "backtrack", match: ["ba"], noMatch: ["b", ""] },
  { pattern: "(?!a)", engine: "backtrack", match: ["a", ""], noMatch: [] },
  { pattern: "(?<=a)b", engine: "backtrack", match: ["ab"], noMatch: ["b", "cb"] },
  { pattern: "(?<!a)b", engine: "backtrack", match: ["b", "cb"], noMatch: ["ab"] },
  { pattern: "(a)\\1", engine: "backtrack", match: ["aa", "xaax"], noMatch: ["ab"] },
  { pattern: "(?<x>a)\\k<x>", engine: "backtrack", match: ["aa"], noMatch: ["ab"] },
  { pattern: "^\\p{Script_Extensions=Latin}+$", engine: "backtrack", match: ["abc"], noMatch: ["αβ"] },
  { pattern: "^.{1001}$", engine: "native", match: ["a".repeat(1001)], noMatch: ["a".repeat(1000)] },
  { pattern: "^(?:ab){1001}$", engine: "backtrack", match: ["ab".repeat(1001)], noMatch: ["ab"] },
];

const REFUSED: Array<{ pattern: string; reason: "syntax" | "unsupported"; message: RegExp }> = [
  { pattern: "\\p{Foo}", reason: "unsupported", message: /Unicode property/ },
  // beyond RE2's repetition limit, and too large for the bounded matcher's expanded program
  { pattern: "(?:a{1000}){1000}", reason: "unsupported", message: /too large/ },
  { pattern: "(?=a{60000})", reason: "unsupported", message: /too large/ },
  { pattern: "(?=(?:ab){5001})", reason: "unsupported", message: /too large/ },
  { pattern: "\\p{Script=1}", reason: "syntax", message: /bad script name/ },
  { pattern: "\\p", reason: "syntax", message: /needs/ },
  { pattern: "\\p{L", reason: "syntax", message: /unterminated/ },
  { pattern: "a**", reason: "syntax", message: /nothing to repeat/ },
  { pattern: "*a", reason: "syntax", message: /nothing to repeat/ },
  { pattern: "{2}", reason: "syntax", message: /nothing to repeat/ },
  { pattern: "a{3,1}", reason: "syntax", message: /out of order/ },
  { pattern: "[b-a]", reason: "syntax", message: /out of order/ },
  { pattern: "[a", reason: "syntax", message: /unterminated character class/ },
  { pattern: "(a", reason: "syntax", message: /unterminated group/ },
  { pattern: "a)", reason: "syntax", message: /unmatched/ },
  { pattern: "(?i)a", reason: "syntax", message: /invalid group/ },
  { pattern: "(?<name", reason: "syntax", message: /group name/ },
  { pattern: "\\01", reason: "syntax", message: /octal/ },
  { pattern: "[\\B]", reason: "syntax", message: /\\B in class/ },
  { pattern: "\\u{110000}", reason: "syntax", message: /out of range/ },
  { pattern: "\\u{zz}", reason: "syntax", message: /bad \\u\{\} escape/ },
  { pattern: "a\\", reason: "syntax", message: /trailing backslash/ },
];

describe("regex translator: accepted constructs", () => {
  for (const row of ACCEPTED) {
    it(`${row.pattern} runs on ${row.engine}`, () => {
      const compiled = compilePattern(row.pattern);
      expect(compiled.engine).toBe(row.engine);
      if (row.re2 !== undefined) expect(translate(row.pattern).re2).toBe(row.re2);
      const native = new RegExp(row.pattern, "u");
      for (const s of row.match) {
        expect(native.test(s), `native ${JSON.stringify(s)}`).toBe(true);
        expect(compiled.test(s), JSON.stringify(s)).toBe(true);
      }
      for (const s of row.noMatch) {
        expect(native.test(s), `native ${JSON.stringify(s)}`).toBe(false);
        expect(compiled.test(s), JSON.stringify(s)).toBe(false);
      }
    });
  }
});

describe("regex translator: refused constructs", () => {
  for (const row of REFUSED) {
    it(`${row.pattern} is refused (${row.reason})`, () => {
      let error: unknown;
      try {
        compilePattern(row.pattern);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(RegexError);
      expect((error as RegexError).reason).toBe(row.reason);
      expect((error as RegexError).pattern).toBe(row.pattern);
      expect((error as RegexError).message).toMatch(row.message);
    });
  }
});

describe("compilePattern", () => {
  it("returns the cached compilation for a repeated source", () => {
    expect(compilePattern("^[a-c]+$")).toBe(compilePattern("^[a-c]+$"));
  });

  it("refuses a pattern longer than MAX_PATTERN_LENGTH before parsing it, and compiles one at the limit", () => {
    expect(() => compilePattern("b".repeat(MAX_PATTERN_LENGTH + 1))).toThrow(
      expect.objectContaining({
        reason: "unsupported",
        message: expect.stringContaining("over the limit of 4096"),
      }),
    );
    expect(compilePattern("b".repeat(MAX_PATTERN_LENGTH)).test("b".repeat(MAX_PATTERN_LENGTH))).toBe(true);
  });

  it("keeps a catastrophic-backtracking pattern linear", () => {
    const compiled = compilePattern("^(a+)+$");
    const start = performance.now();
    expect(compiled.test(`${"a".repeat(5000)}!`)).toBe(false);
    expect(performance.now() - start).toBeLessThan(1000);
  });
});

describe("isValidEcmaRegex", () => {
  it.each([
    ["^a(?=b)", true],
    ["(a)\\1", true],
    ["[", false],
    ["a{", false],
    ["\\p{Foo}", false],
  ])("%s → %s", (source, valid) => {
    expect(isValidEcmaRegex(source)).toBe(valid);
  });
});

describe("code point ranges", () => {
  it("normalises, complements and intersects", () => {
    expect(
      normalize([
        [5, 6],
        [1, 3],
        [4, 4],
      ]),
    ).toEqual([[1, 6]]);
    expect(complement([[0, 9]])).toEqual([[10, 0x10ffff]]);
    expect(intersects([[0, 5]], [[5, 9]])).toBe(true);
    expect(intersects([[0, 4]], [[5, 9]])).toBe(false);
  });
});
