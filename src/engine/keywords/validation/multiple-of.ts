import type { KeywordDefinition } from "../../keyword";
import { numberLimitCheck } from "./number-limit";

function decimals(n: number): number {
  const s = String(n);
  const e = s.indexOf("e-");
  if (e >= 0) {
    const mantissa = s.slice(0, e);
    const dot = mantissa.indexOf(".");
    return Number(s.slice(e + 2)) + (dot >= 0 ? mantissa.length - dot - 1 : 0);
  }
  const dot = s.indexOf(".");
  return dot >= 0 ? s.length - dot - 1 : 0;
}

/** True when x is a multiple of m, tolerating binary floating point (0.0075 is a multiple of 0.0001). */
export function isMultipleOf(x: number, m: number): boolean {
  const q = x / m;
  if (Number.isInteger(q)) return true;
  if (!Number.isFinite(q)) return Number.isInteger(x) && Number.isInteger(1 / m);
  const d = Math.max(decimals(x), decimals(m));
  if (d > 20) return false;
  const scale = 10 ** d;
  const xs = Math.round(x * scale);
  const ms = Math.round(m * scale);
  if (!Number.isSafeInteger(xs) || !Number.isSafeInteger(ms) || ms === 0)
    return Math.abs(q - Math.round(q)) < 1e-9;
  return xs % ms === 0;
}

/** `multipleOf`. */
export const multipleOf: KeywordDefinition = {
  keyword: "multipleOf",
  instance: "number",
  drafts: [4, 6, 7, 2019, 2020],
  compile: (value, _schema, compiler) =>
    numberLimitCheck(compiler, "multipleOf", isMultipleOf, "a multiple of", value),
};
