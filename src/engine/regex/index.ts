import { RE2JS } from "re2js";
import type { WorkBudget } from "../budget";
import { isBacktrackSafe } from "./linear";
import { RegexError } from "./regex-error";
import { translate } from "./translate";

// Patterns in `pattern` / `patternProperties` are ECMA-262 regular expressions written by customers.
// A backtracking engine can take exponential time on them (`^(a+)+$`), so they run on RE2 (re2js,
// linear time) after translating ECMA syntax to RE2 syntax. The one exception is a pattern that a
// backtracking engine provably runs in linear time (see `isBacktrackSafe`): those run on the native
// engine, which is ~30x faster on the short strings typical of API payloads. Features RE2 cannot
// express (backreferences, lookaround) make the schema unsupported: we reject it rather than run a
// pattern whose worst case we cannot bound.

export { RegexError } from "./regex-error";

/** A compiled pattern: `test` is an unanchored search, as ECMA `RegExp.prototype.test`. */
export interface CompiledPattern {
  readonly source: string;
  readonly engine: "re2" | "native";
  test(s: string, budget?: WorkBudget): boolean;
}

const cache = new Map<string, CompiledPattern>();
const CACHE_LIMIT = 2000;

/** Compiles an ECMA-262 pattern for linear-time matching; throws RegexError. Cached per isolate. */
export function compilePattern(source: string): CompiledPattern {
  const hit = cache.get(source);
  if (hit) return hit;
  const t = translate(source);
  let compiled: CompiledPattern;
  let native: RegExp | null = null;
  if (isBacktrackSafe(t)) {
    try {
      native = new RegExp(source, "u");
    } catch {
      native = null;
    }
  }
  if (native) {
    const re = native;
    compiled = { source, engine: "native", test: (s) => re.test(s) };
  } else {
    let re2: RE2JS;
    try {
      re2 = RE2JS.compile(t.re2);
    } catch (e) {
      throw new RegexError(source, "unsupported", `pattern not supported: ${(e as Error).message}`);
    }
    compiled = { source, engine: "re2", test: (s) => re2.test(s) };
  }
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(source, compiled);
  return compiled;
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
