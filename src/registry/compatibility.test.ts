import { describe, expect, it } from "vitest";
import { compareSchemas } from "./compatibility";

const kinds = (report: ReturnType<typeof compareSchemas>, side: "breaking" | "widening") =>
  report[side].map((change) => `${change.kind} ${change.location}`);

describe("compatibility report", () => {
  const base = {
    type: "object",
    required: ["id"],
    additionalProperties: false,
    properties: {
      id: { type: "string", pattern: "^o_" },
      qty: { type: "integer", minimum: 1, maximum: 100 },
      status: { enum: ["open", "paid", "void"] },
      note: { type: "string" },
      tags: { type: "array", items: { type: "string", maxLength: 20 } },
    },
  };

  it("finds nothing between equal schemas", () => {
    expect(compareSchemas(base, structuredClone(base))).toEqual({
      compatible: true,
      breaking: [],
      widening: [],
    });
  });

  it("lists each change that can turn a valid document invalid, where it is", () => {
    const next = structuredClone(base) as Omit<typeof base, "properties"> & {
      properties: Record<string, unknown>;
    };
    next.required = ["id", "qty"];
    next.properties.qty = { type: "integer", minimum: 5, maximum: 100 };
    next.properties.status = { enum: ["open", "paid"] };
    delete next.properties.note;
    next.properties.id = { type: "string", pattern: "^ord_" };
    next.properties.tags = { type: "array", uniqueItems: true, items: { type: "string", maxLength: 10 } };
    next.properties.extra = { type: ["string"] };
    const report = compareSchemas(base, next);
    expect(report.compatible).toBe(false);
    expect(kinds(report, "breaking")).toEqual(
      expect.arrayContaining([
        "required_added /required",
        "property_removed /properties/note",
        "bound_tightened /properties/qty/minimum",
        "enum_narrowed /properties/status/enum",
        "pattern_changed /properties/id/pattern",
        "unique_items_added /properties/tags/uniqueItems",
        "bound_tightened /properties/tags/items/maxLength",
      ]),
    );
    expect(report.breaking.find((c) => c.kind === "pattern_changed")?.certain).toBe(false);
    expect(report.breaking.find((c) => c.kind === "required_added")?.detail).toBe('"qty" is now required');
    expect(kinds(report, "widening")).toContain("property_added /properties/extra");
  });

  it("narrowed and widened types, closed and opened objects", () => {
    const narrowed = compareSchemas({ type: ["string", "number"] }, { type: "string" });
    expect(kinds(narrowed, "breaking")).toEqual(["type_narrowed /type"]);
    expect(narrowed.breaking[0]?.detail).toBe("no longer accepts number");
    expect(compareSchemas({ type: "number" }, { type: "integer" }).compatible).toBe(false);
    const widened = compareSchemas({ type: "integer" }, { type: "number" });
    expect(widened.compatible).toBe(true);
    expect(kinds(widened, "widening")).toEqual(["type_widened /type"]);
    expect(kinds(compareSchemas({}, { additionalProperties: false }), "breaking")).toEqual([
      "additional_properties_closed /additionalProperties",
    ]);
    expect(kinds(compareSchemas({ additionalProperties: false }, {}), "widening")).toEqual([
      "additional_properties_opened /additionalProperties",
    ]);
  });

  it("only widening: required removed, bounds loosened, enum widened, pattern dropped", () => {
    const report = compareSchemas(
      { required: ["a", "b"], maxLength: 5, enum: ["x"], pattern: "^a" },
      { required: ["a"], maxLength: 10, enum: ["x", "y"] },
    );
    expect(report.compatible).toBe(true);
    expect(kinds(report, "widening")).toEqual([
      "required_removed /required",
      "enum_widened /enum",
      "bound_loosened /maxLength",
      "pattern_removed /pattern",
    ]);
  });

  it("walks definitions and same-length branch lists; a changed $ref may break", () => {
    const report = compareSchemas(
      {
        $defs: { sku: { type: "string" } },
        anyOf: [{ minimum: 0 }, { type: "null" }],
        items: { $ref: "#/$defs/sku" },
      },
      {
        $defs: { sku: { type: "string", minLength: 3 } },
        anyOf: [{ minimum: 1 }, { type: "null" }],
        items: { $ref: "#/$defs/other" },
      },
    );
    expect(kinds(report, "breaking")).toEqual([
      "bound_tightened /$defs/sku/minLength",
      "reference_changed /items/$ref",
      "bound_tightened /anyOf/0/minimum",
    ]);
    expect(compareSchemas(true, false).breaking[0]?.kind).toBe("schema_false");
  });
});
