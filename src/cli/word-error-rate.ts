/** Word error rate: edit operations turning the reference into the hypothesis, per reference word. */
export interface WordErrorRate {
  readonly rate: number;
  readonly referenceWords: number;
  readonly substitutions: number;
  readonly deletions: number;
  readonly insertions: number;
}

/** Lower case, letters, digits and apostrophes: how transcripts are compared. */
export function normaliseWords(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}'\s]/gu, ' ')
    .split(/\s+/)
    .filter(Boolean);
}

/** The word error rate of `hypothesis` against `reference` (Levenshtein over words, as sclite counts). */
export function wordErrorRate(reference: string, hypothesis: string): WordErrorRate {
  const ref = normaliseWords(reference);
  const hyp = normaliseWords(hypothesis);
  // cost[i][j]: edits for ref[0..i) -> hyp[0..j), kept as two rows; ops counted alongside.
  type Cell = { cost: number; s: number; d: number; i: number };
  let previous: Cell[] = Array.from({ length: hyp.length + 1 }, (_, j) => ({ cost: j, s: 0, d: 0, i: j }));
  for (let r = 1; r <= ref.length; r++) {
    const row: Cell[] = [{ cost: r, s: 0, d: r, i: 0 }];
    for (let h = 1; h <= hyp.length; h++) {
      const same = ref[r - 1] === hyp[h - 1];
      const diagonal = previous[h - 1]!;
      const up = previous[h]!;
      const left = row[h - 1]!;
      const options: Cell[] = [
        { ...diagonal, cost: diagonal.cost + (same ? 0 : 1), s: diagonal.s + (same ? 0 : 1) },
        { ...up, cost: up.cost + 1, d: up.d + 1 },
        { ...left, cost: left.cost + 1, i: left.i + 1 },
      ];
      row.push(options.reduce((best, o) => (o.cost < best.cost ? o : best)));
    }
    previous = row;
  }
  const last = previous[hyp.length]!;
  return {
    rate: ref.length === 0 ? (hyp.length === 0 ? 0 : 1) : last.cost / ref.length,
    referenceWords: ref.length,
    substitutions: last.s,
    deletions: last.d,
    insertions: last.i,
  };
}
