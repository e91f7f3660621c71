import { describe, expect, it } from "vitest";
import type { OutputUnit, ValidationResult } from "../engine";
import { capErrorBytes } from "./error-bytes";

const unit = (error: string, errors?: OutputUnit[]): OutputUnit => ({
  valid: false,
  keywordLocation: "/items/pattern",
  absoluteKeywordLocation: "#/items/pattern",
  instanceLocation: "/0",
  error,
  ...(errors && { errors }),
});

describe("capErrorBytes", () => {
  it("keeps a verdict whose errors fit as it is", () => {
    const result: ValidationResult = { valid: false, errors: [unit("a"), unit("b")] };
    expect(capErrorBytes(result, 10_000)).toBe(result);
  });

  it("keeps errors in order until the cap and says truncated", () => {
    const errors = Array.from({ length: 100 }, (_, i) => unit(`${i}:${"x".repeat(1000)}`));
    const capped = capErrorBytes({ valid: false, errors }, 10_000);
    expect(capped.truncated).toBe(true);
    expect(capped.errors?.length).toBeGreaterThan(5);
    expect(JSON.stringify(capped.errors).length).toBeLessThanOrEqual(10_000 + 100);
    expect(capped.errors?.map((e) => e.error.split(":")[0])).toEqual(
      errors.slice(0, capped.errors?.length).map((e) => e.error.split(":")[0]),
    );
  });

  it("keeps the first error, shortened, when it alone is over the cap", () => {
    const capped = capErrorBytes({ valid: false, errors: [unit("y".repeat(50_000)), unit("z")] }, 2048);
    expect(capped.truncated).toBe(true);
    expect(capped.errors).toHaveLength(1);
    expect(capped.errors?.[0]?.error.length).toBe(1024);
    expect(capped.errors?.[0]?.error.endsWith("…")).toBe(true);
  });

  it("cuts a detailed tree depth first, keeping its shape", () => {
    const tree = unit("root", [unit("a", [unit("a1"), unit(`a2${"x".repeat(5000)}`)]), unit("b")]);
    const capped = capErrorBytes({ valid: false, errors: [tree] }, 1000);
    expect(capped.truncated).toBe(true);
    expect(capped.errors?.[0]?.error).toBe("root");
    expect(capped.errors?.[0]?.errors?.[0]?.errors?.map((e) => e.error)).toEqual(["a1"]);
    expect(capped.errors?.[0]?.errors).toHaveLength(1);
  });
});
