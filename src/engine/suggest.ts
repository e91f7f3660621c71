// "Did you mean": the closest of a few candidates to a misspelt name or value. Used for errors (enum
// values, property names) and schema warnings (keywords, formats), never on the validation path.

/** Candidates compared at most (a large enum is not scanned whole for a suggestion). */
const MAX_CANDIDATES = 1000;
/** Longer strings are not typos worth suggesting for. */
const MAX_LENGTH = 64;

/** Edit distance (insertions, deletions, substitutions, adjacent transpositions), capped at `max + 1`. */
export function editDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let before: number[] = [];
  let previous: number[] = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        (previous[j - 1] as number) + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d = Math.min(d, (before[j - 2] as number) + 1);
      current.push(d);
      if (d < rowMin) rowMin = d;
    }
    if (rowMin > max) return max + 1;
    before = previous;
    previous = current;
  }
  return previous[b.length] as number;
}

/** How many edits still count as a typo of a word of this length. */
function tolerance(length: number): number {
  return length <= 4 ? 1 : length <= 8 ? 2 : 3;
}

/** The candidate `word` most likely meant, or undefined when none is close (an exact match is not a suggestion). */
export function closest(word: string, candidates: readonly unknown[]): string | undefined {
  if (word.length === 0 || word.length > MAX_LENGTH) return undefined;
  const lower = word.toLowerCase();
  let best: string | undefined;
  let bestScore = Number.POSITIVE_INFINITY;
  const n = Math.min(candidates.length, MAX_CANDIDATES);
  for (let i = 0; i < n; i++) {
    const candidate = candidates[i];
    if (typeof candidate !== "string" || candidate === word || candidate.length > MAX_LENGTH) continue;
    const max = tolerance(Math.min(word.length, candidate.length));
    // A difference of case only is the closest there is.
    const score = candidate.toLowerCase() === lower ? 0.5 : editDistance(lower, candidate.toLowerCase(), max);
    if (score <= max && score < bestScore) {
      best = candidate;
      bestScore = score;
    }
  }
  return best;
}
