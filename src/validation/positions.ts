import type { OutputUnit } from "../engine";
import { locatePointers } from "../lib/json-text";

/** Adds the line and column of its instance to every error of a document sent as `json` text. */
export function addPositions(text: string, errors: OutputUnit[]): void {
  const pointers = new Set<string>();
  const collect = (units: OutputUnit[]) => {
    for (const unit of units) {
      pointers.add(unit.instanceLocation);
      if (unit.errors) collect(unit.errors);
    }
  };
  collect(errors);
  const positions = locatePointers(text, pointers);
  const place = (units: OutputUnit[]) => {
    for (const unit of units) {
      const at = positions.get(unit.instanceLocation);
      if (at) Object.assign(unit, at);
      if (unit.errors) place(unit.errors);
    }
  };
  place(errors);
}
