/**
 * "Did you mean …?" for misspelled commands, options and variable names. The distance is Damerau–Levenshtein
 * in its optimal-string-alignment form: an insertion, a deletion, a substitution or a swap of two neighbours
 * each cost 1, so `mgirate` is one step from `migrate` (a plain Levenshtein distance counts a swap as 2).
 */
export function editDistance(a: string, b: string): number {
  // rows[i][j]: distance between the first i characters of a and the first j of b.
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 0; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = best;
    }
  }
  return rows[a.length]![b.length]!;
}

/**
 * How far a word may be from a candidate and still be a likely typo: one edit for short words (where two
 * edits turn any word into another: `ls` → `rm`), two from five characters on.
 */
export function typoThreshold(word: string): number {
  return word.length <= 4 ? 1 : 2;
}

/** The candidate closest to `word` within `maxDistance` (the first one on a tie), or undefined. */
export function didYouMean(word: string, candidates: Iterable<string>, maxDistance = typoThreshold(word)): string | undefined {
  let best: string | undefined;
  let bestDistance = maxDistance + 1;
  for (const candidate of candidates) {
    if (candidate === word) continue;
    const d = editDistance(word, candidate);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}
