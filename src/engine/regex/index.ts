import { RE2JS } from "re2js";
import type { WorkBudget } from "../budget";
import { ValidationLimitError } from "../errors";
import { compileProgram, type Program, search } from "./backtrack";
import { isBacktrackSafe, nativeCostFactor } from "./linear";
import { type Parsed, parse } from "./parse";
import { RegexError } from "./regex-error";
import { type Translation, translate } from "./translate";

// Patterns in `pattern` / `patternProperties` are ECMA-262 regular expressions written by customers.
// A backtracking engine can take exponential time on them (`^(a+)+$`), so each runs on the engine
// whose work can be bounded, and every match spends from the request's WorkBudget:
// - native RegExp, only where the match cost is provably linear (linear.ts): a start-anchored flat
//   sequence of single-character atoms without backtracking choices, or a short fixed-length
//   sequence (unanchored: tried at each position, cost length × atoms). Cost: (length + 1) × factor.
// - RE2 (re2js, linear time) for everything else RE2 can express. Cost: (length + 1) × factor, the
//   factor growing with the pattern's size.
// - a bounded backtracking matcher (backtrack.ts, ECMA semantics) for what RE2 cannot express
//   (lookaround, backreferences, repetition counts above 1000). Cost: its actual steps, and one
//   match never runs past MAX_STEPS_PER_MATCH even without a budget.
// Running out of budget in the backtracking matcher throws ValidationLimitError "regex_budget".

export { RegexError } from "./regex-error";

/** A compiled pattern: `test` is an unanchored search, as ECMA `RegExp.prototype.test`. */
export interface CompiledPattern {
  readonly source: string;
  readonly engine: "re2" | "native" | "backtrack";
  /** Work units compiling it cost (see compileUnits), charged to the schema's compilation. */
  readonly compileUnits: number;
  /** Spends the match's work from `budget` (throws ValidationLimitError when it runs out). */
  test(s: string, budget?: WorkBudget): boolean;
}

/**
 * What compiling a pattern costs, in validation work units (about 0.25 us each): measured with re2js
 * (node 20, warm) at about 40 us + 1.1 us a character of the translated source + 0.55 us an
 * instruction of the program (`^(?:[\w.-]{1,200}){1,5}$`: 84 characters, 2,011 instructions,
 * 1.1 ms), charged at twice that. The isolate's pattern cache does not lower it: a verdict never
 * depends on what this isolate compiled before.
 */
function compileUnits(sourceLength: number, instructions: number): number {
  return 200 + 8 * sourceLength + 4 * instructions;
}

/** The most steps one backtracking match may take, whatever budget it is given. */
export const MAX_STEPS_PER_MATCH = 1_000_000;

interface Entry {
  pattern: CompiledPattern;
  bytes: number;
}
const cache = new Map<string, Entry>();
const CACHE_LIMIT = 2000;
const CACHE_BYTES = 8 * 1024 * 1024;
let cacheBytes = 0;

/**
 * The longest pattern compiled: parsing one for its safety analysis is a stretch of work that
 * cannot pause (a 60,000-character pattern held the thread about 100-200 ms on first use), and the
 * longest pattern of the 176 real-world schemas is 105 characters.
 */
export const MAX_PATTERN_LENGTH = 4096;

/** Compiles an ECMA-262 pattern to a bounded engine; throws RegexError. Cached per isolate (LRU). */
export function compilePattern(source: string): CompiledPattern {
  if (source.length > MAX_PATTERN_LENGTH) {
    throw new RegexError(
      source,
      "unsupported",
      `the pattern is ${source.length} characters long, over the limit of ${MAX_PATTERN_LENGTH}; shorten it or split it into several patterns (allOf)`,
    );
  }
  const hit = cache.get(source);
  if (hit) {
    cache.delete(source);
    cache.set(source, hit);
    return hit.pattern;
  }
  const entry = compileEntry(source);
  while (cache.size > 0 && (cache.size >= CACHE_LIMIT || cacheBytes + entry.bytes > CACHE_BYTES)) {
    const [oldest, old] = cache.entries().next().value as [string, Entry];
    cache.delete(oldest);
    cacheBytes -= old.bytes;
  }
  if (entry.bytes <= CACHE_BYTES) {
    cache.set(source, entry);
    cacheBytes += entry.bytes;
  }
  return entry.pattern;
}

/** The cache's current size, for tests. */
export function patternCacheStats(): { entries: number; bytes: number } {
  return { entries: cache.size, bytes: cacheBytes };
}

function compileEntry(source: string, allowNative = true): Entry {
  let t: Translation | null = null;
  let refusal: RegexError | null = null;
  try {
    t = translate(source);
  } catch (e) {
    // lookaround, backreferences, some properties: RE2 cannot run them, the backtracking matcher can
    if (!(e instanceof RegexError) || e.reason !== "unsupported") throw e;
    refusal = e;
  }
  if (t && allowNative && isBacktrackSafe(t)) {
    const native = nativeRegExp(source);
    if (native) {
      const factor = nativeCostFactor(t);
      const fallback = (): CompiledPattern => compileEntry(source, false).pattern;
      const units = compileUnits(source.length, 0);
      return {
        pattern: nativePattern(source, native, factor, fallback, units),
        bytes: 256 + 8 * source.length,
      };
    }
  }
  if (t) {
    let re2: RE2JS | null = null;
    try {
      re2 = RE2JS.compile(t.re2);
    } catch (e) {
      if (!/repeat/.test((e as Error).message))
        throw new RegexError(source, "unsupported", `pattern not supported: ${(e as Error).message}`);
    }
    if (re2) {
      const engine = re2;
      const factor = Math.min(64, Math.max(1, Math.ceil(t.re2.length / 16)));
      const pattern: CompiledPattern = {
        source,
        engine: "re2",
        compileUnits: compileUnits(t.re2.length, engine.programSize()),
        test: (s, budget) => {
          budget?.spend((s.length + 1) * factor);
          return engine.test(s);
        },
      };
      return { pattern, bytes: 1024 + 64 * t.re2.length };
    }
  }
  let parsed: Parsed;
  try {
    parsed = parse(source);
  } catch (e) {
    // the host refuses it too (an unknown property): the translator's reason is the clearer one
    throw (e instanceof RegexError && e.reason === "syntax" && refusal) || e;
  }
  const program = compileProgram(source, parsed);
  const units = compileUnits(source.length, program.insts.length);
  return { pattern: backtrackPattern(source, program, units), bytes: 512 + 96 * program.insts.length };
}

/** The native RegExp, compiled for both string representations now so that V8's "Regular
 * expression too large" shows here, not at match time; null when V8 refuses it. */
function nativeRegExp(source: string): RegExp | null {
  try {
    const re = new RegExp(source, "u");
    re.test("");
    re.test("\u0100");
    return re;
  } catch {
    return null;
  }
}

function nativePattern(
  source: string,
  re: RegExp,
  factor: number,
  fallback: () => CompiledPattern,
  units: number,
): CompiledPattern {
  let other: CompiledPattern | null = null;
  return {
    source,
    engine: "native",
    compileUnits: units,
    test: (s, budget) => {
      if (other) return other.test(s, budget);
      budget?.spend((s.length + 1) * factor);
      try {
        return re.test(s);
      } catch {
        // V8 can still refuse a pattern when it tiers up to native code: run it elsewhere
        other = fallback();
        return other.test(s);
      }
    },
  };
}

function backtrackPattern(source: string, program: Program, units: number): CompiledPattern {
  return {
    source,
    engine: "backtrack",
    compileUnits: units,
    test: (s, budget) => {
      let total = 0;
      const exceeded = (limit: number): never => {
        throw new ValidationLimitError(
          "regex_budget",
          `pattern ${JSON.stringify(source)} needed more work than its budget on a string of length ${s.length}`,
          limit,
        );
      };
      return search(program, s, {
        charge(steps) {
          total += steps;
          if (total > MAX_STEPS_PER_MATCH) exceeded(MAX_STEPS_PER_MATCH);
          if (!budget) return;
          try {
            budget.spend(steps);
          } catch (e) {
            if (e instanceof ValidationLimitError && e.kind === "budget") exceeded(e.limit);
            throw e;
          }
        },
      });
    },
  };
}

/** The pattern with `at` (its schema location) in the message of its "regex_budget" error. Only the
 * backtracking engine raises it, so the others are returned as they are (no wrapper on hot paths). */
export function withLocation(pattern: CompiledPattern, at: string): CompiledPattern {
  if (pattern.engine !== "backtrack" || at === "") return pattern;
  return {
    source: pattern.source,
    engine: pattern.engine,
    compileUnits: pattern.compileUnits,
    test: (s, budget) => {
      try {
        return pattern.test(s, budget);
      } catch (e) {
        if (e instanceof ValidationLimitError && e.kind === "regex_budget") {
          const named = `pattern ${JSON.stringify(pattern.source)}`;
          throw new ValidationLimitError(e.kind, e.message.replace(named, `${named}${at}`), e.limit);
        }
        throw e;
      }
    },
  };
}

/** True when `source` is a valid ECMA-262 regular expression (u-mode). Compiles, never matches. */
export function isValidEcmaRegex(source: string): boolean {
  try {
    new RegExp(source, "u");
    return true;
  } catch {
    return false;
  }
}
