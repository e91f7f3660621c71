import { intersects } from "./ranges";
import type { Atom, Translation } from "./translate";

/**
 * True when a backtracking engine runs this pattern in linear time: a flat sequence of
 * single-character atoms where every variable-count atom's characters cannot start what follows it
 * (so backtracking never has a real choice), anchored at the start if anything is variable.
 */
export function isBacktrackSafe(t: Translation): boolean {
  const atoms = t.atoms;
  if (!atoms) return false;
  let variable = false;
  for (let k = 0; k < atoms.length; k++) {
    const a = atoms[k] as Atom;
    if (a.min === a.max) continue;
    variable = true;
    for (let j = k + 1; j < atoms.length; j++) {
      const b = atoms[j] as Atom;
      if (intersects(a.set, b.set)) return false;
      if (b.min > 0) break;
    }
  }
  return !variable || t.anchoredStart;
}
