import { describe, expect, it } from "vitest";
import { closest, editDistance } from "./suggest";

/** The textbook optimal-string-alignment distance, for comparison. */
function reference(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  const d = Array.from({ length: x.length + 1 }, (_, i) =>
    Array.from({ length: y.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= x.length; i++)
    for (let j = 1; j <= y.length; j++) {
      const row = d[i] as number[];
      row[j] = Math.min(
        (d[i - 1] as number[])[j]! + 1,
        row[j - 1]! + 1,
        (d[i - 1] as number[])[j - 1]! + (x[i - 1] === y[j - 1] ? 0 : 1),
      );
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1])
        row[j] = Math.min(row[j]!, (d[i - 2] as number[])[j - 2]! + 1);
    }
  return (d[x.length] as number[])[y.length]!;
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
