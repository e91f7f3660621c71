import type { CompiledSchema } from "../engine";
import { ValidationRefusal } from "./refusal";

/** A strict request's refusal of a schema with warnings: SCHEMA_INVALID naming the first, listing all. */
export function strictRefusal(validator: CompiledSchema): ValidationRefusal {
  const [first] = validator.warnings;
  const count = validator.warnings.length;
  return new ValidationRefusal(
    "SCHEMA_INVALID",
    `The schema has ${count}${validator.warningsTruncated ? "+" : ""} warning${count === 1 ? "" : "s"} and "strict" is on. ` +
      `At ${first?.schemaLocation || "its root"}: ${first?.message}`,
    {
      schemaLocation: first?.schemaLocation,
      warnings: validator.warnings,
      ...(validator.warningsTruncated && { warningsTruncated: true }),
    },
  );
}
