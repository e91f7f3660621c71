import { intersects } from "./ranges";
import type { Atom, Translation } from "./translate";

/** The longest unanchored fixed-length pattern run natively (tried at each position: length × input). */
export const MAX_UNANCHORED_LENGTH = 32;

/**
 * True when a backtracking engine runs this pattern in time linear in the input: a flat sequence
 * of single-character atoms where every variable-count atom's characters cannot start what follows
 * it (so backtracking never has a real choice), and either anchored at the start (one attempt, at
 * position 0) or of a short fixed length (an attempt at each position costs at most that length).
 * An unanchored fixed-length atom such as `.{50000}` is not linear: 50,000 steps at every position.
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
  if (t.anchoredStart) return true;
  return !variable && fixedLength(atoms) <= MAX_UNANCHORED_LENGTH;
}

/** The per-character cost bound of a pattern `isBacktrackSafe` accepts: a match visits at most
 * (input length + 1) × factor characters. */
export function nativeCostFactor(t: Translation): number {
  if (t.anchoredStart || !t.atoms) return 2;
  return Math.max(1, fixedLength(t.atoms));
}

const fixedLength = (atoms: Atom[]): number => atoms.reduce((n, a) => n + a.max, 0);
