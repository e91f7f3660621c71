import { describe, expect, it } from "vitest";
import { closest, editDistance } from "./suggest";

/** The textbook optimal-string-alignment distance, for comparison (one flat matrix). */
function reference(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  const w = y.length + 1;
  const d = new Array<number>((x.length + 1) * w).fill(0);
  const at = (i: number, j: number): number => d[i * w + j] as number;
  for (let i = 0; i <= x.length; i++) d[i * w] = i;
  for (let j = 0; j <= y.length; j++) d[j] = j;
  for (let i = 1; i <= x.length; i++)
    for (let j = 1; j <= y.length; j++) {
      let v = Math.min(
        at(i - 1, j) + 1,
        at(i, j - 1) + 1,
        at(i - 1, j - 1) + (x[i - 1] === y[j - 1] ? 0 : 1),
      );
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1])
        v = Math.min(v, at(i - 2, j - 2) + 1);
      d[i * w + j] = v;
    }
  return at(x.length, y.length);
}

describe("suggestions", () => {
  it("the banded distance agrees with the full one up to its cap", () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const word = () =>
      Array.from({ length: 1 + Math.floor(random() * 9) }, () => "abcAB"[Math.floor(random() * 5)]).join("");
    for (let n = 0; n < 3000; n++) {
      const a = word();
      const b = word();
      for (const max of [1, 2, 3])
        expect(editDistance(a, b, max), `${a} ${b} ${max}`).toBe(Math.min(reference(a, b), max + 1));
    }
  });

  it("suggests typos, case slips and transpositions, not unrelated words", () => {
    expect(closest("requried", ["required", "properties"])).toBe("required");
    expect(closest("strng", ["string", "number"])).toBe("string");
    expect(closest("Active", ["inactive", "active"])).toBe("active");
    expect(closest("path", ["date", "time"])).toBeUndefined();
    expect(closest("x", ["y"])).toBeUndefined();
    expect(closest("ID", ["id"])).toBe("id");
  });

  it("spends at most its budget of comparisons", () => {
    const budget = { comparisons: 3 };
    expect(closest("zzzz", ["aaaa", "bbbb", "cccc", "zzza"], budget)).toBeUndefined();
    expect(budget.comparisons).toBe(0);
  });
});
