// "Did you mean": the closest of a few candidates to a misspelt name or value. Used for errors (enum
// values, property names) and schema warnings (keywords, formats), never on the validation path.

/** Longer strings are not typos worth suggesting for. */
const MAX_LENGTH = 64;

/** Candidate comparisons one validation's suggestions may make (a large enum is not scanned whole). */
export const SUGGESTION_BUDGET = 2000;

/** What is left of a suggestion budget; shared by the errors of one validation. */
export interface SuggestionBudget {
  comparisons: number;
}

// Three rows of the distance matrix, reused (strings are at most MAX_LENGTH long).
let rowBefore = new Int32Array(MAX_LENGTH + 2);
let rowPrevious = new Int32Array(MAX_LENGTH + 2);
let rowCurrent = new Int32Array(MAX_LENGTH + 2);

/** A character code with ASCII letters folded to lower case. */
function fold(code: number): number {
  return code >= 65 && code <= 90 ? code + 32 : code;
}

/** The (folded) characters of a string, as 32 bits: what no edit sequence shorter than the difference can reconcile. */
function characterMask(s: string): number {
  let mask = 0;
  for (let i = 0; i < s.length; i++) mask |= 1 << (fold(s.charCodeAt(i)) & 31);
  return mask;
}

function bits(n: number): number {
  let x = n - ((n >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/**
 * Edit distance (insertions, deletions, substitutions, adjacent transpositions) of two strings of at
 * most MAX_LENGTH characters, ASCII case ignored, capped at `max + 1`. Only the diagonal band of
 * width 2 × max + 1 is computed: cells outside it exceed `max` anyway.
 */
export function editDistance(a: string, b: string, max: number): number {
  const over = max + 1;
  if (Math.abs(a.length - b.length) > max) return over;
  if (a.length > MAX_LENGTH || b.length > MAX_LENGTH) return over;
  for (let j = 0; j <= b.length; j++) rowPrevious[j] = j;
  for (let i = 1; i <= a.length; i++) {
    const from = Math.max(1, i - max);
    const to = Math.min(b.length, i + max);
    rowCurrent[from - 1] = from === 1 ? i : over;
    let rowMin = over;
    const ca = fold(a.charCodeAt(i - 1));
    const caBefore = i > 1 ? fold(a.charCodeAt(i - 2)) : -1;
    for (let j = from; j <= to; j++) {
      const cb = fold(b.charCodeAt(j - 1));
      let d = Math.min(
        (rowPrevious[j] as number) + 1,
        (rowCurrent[j - 1] as number) + 1,
        (rowPrevious[j - 1] as number) + (ca === cb ? 0 : 1),
      );
      if (i > 1 && j > 1 && ca === fold(b.charCodeAt(j - 2)) && caBefore === cb)
        d = Math.min(d, (rowBefore[j - 2] as number) + 1);
      rowCurrent[j] = d;
      if (d < rowMin) rowMin = d;
    }
    if (to < b.length) rowCurrent[to + 1] = over;
    if (rowMin > max) return over;
    const oldest = rowBefore;
    rowBefore = rowPrevious;
    rowPrevious = rowCurrent;
    rowCurrent = oldest;
  }
  return Math.min(rowPrevious[b.length] as number, over);
}

/** How many edits still count as a typo of a word of this length. */
function tolerance(length: number): number {
  return length <= 2 ? 0 : length <= 4 ? 1 : length <= 8 ? 2 : 3;
}

/**
 * The candidate `word` most likely meant, or undefined when none is close (an exact match is not a
 * suggestion). Each candidate compared spends one of `budget`'s comparisons; none left, no more.
 */
export function closest(
  word: string,
  candidates: readonly unknown[],
  budget: SuggestionBudget = { comparisons: SUGGESTION_BUDGET },
): string | undefined {
  if (word.length === 0 || word.length > MAX_LENGTH) return undefined;
  const wordMask = characterMask(word);
  let best: string | undefined;
  let bestScore = Number.POSITIVE_INFINITY;
  for (let i = 0; i < candidates.length && budget.comparisons > 0; i++) {
    const candidate = candidates[i];
    if (typeof candidate !== "string" || candidate === word || candidate.length > MAX_LENGTH) continue;
    budget.comparisons--;
    const max = tolerance(Math.min(word.length, candidate.length));
    if (Math.abs(candidate.length - word.length) > max) continue;
    // Each edit adds or removes at most one distinct character: more differences than `max` is no typo.
    const mask = characterMask(candidate);
    if (Math.max(bits(wordMask & ~mask), bits(mask & ~wordMask)) > max) continue;
    const distance = editDistance(word, candidate, max);
    // A difference of (ASCII) case only is the closest there is.
    const score = distance === 0 ? 0.5 : distance;
    if (score <= Math.max(max, 0.5) && score < bestScore) {
      best = candidate;
      bestScore = score;
    }
  }
  return best;
}
