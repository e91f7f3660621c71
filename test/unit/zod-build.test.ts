/**
 * The Worker is built with zod minus its locales (wrangler.toml [alias] "zod", build/): the same
 * exports as zod's own entry, at every level, `locales` aside, so that an upgrade of zod that adds,
 * moves or drops an export fails here instead of in the built Worker.
 */
import { describe, expect, it } from "vitest";
import * as zod from "zod";
import * as built from "../../build/zod-without-locales.mjs";

const names = (namespace: object) => Object.keys(namespace).sort();

describe("the Worker's zod (build/zod-without-locales.mjs)", () => {
  it("exports what zod exports, locales aside, down to z.core", () => {
    expect(names(built)).toEqual(names(zod).filter((name) => name !== "locales"));
    expect(names(built.z)).toEqual(names(zod.z).filter((name) => name !== "locales"));
    expect(names(built.z.core)).toEqual(names(zod.z.core).filter((name) => name !== "locales"));
    expect("locales" in built.z.core).toBe(false);
  });

  it("is the same zod: its schemas are zod's, and errors read in English", () => {
    expect(built.z.ZodType).toBe(zod.z.ZodType);
    const result = built.z.object({ n: built.z.number() }).safeParse({ n: "1" });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toBe("Invalid input: expected number, received string");
  });
});
