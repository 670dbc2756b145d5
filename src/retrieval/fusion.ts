/**
 * Reciprocal rank fusion (Cormack, Clarke & Buettcher 2009): a passage's fused score is the sum over
 * the input rankings of weight / (k + rank), rank counted from 1; a passage absent from a ranking
 * gets nothing from it. k = 60 is the paper's value. Ties follow the project rule (passage order).
 */
import { TopK, type TopKResult } from './topk.js';

export const DEFAULT_RRF_K = 60;

export interface FusionOptions {
  /** The k of 1/(k + rank); default 60. */
  k?: number;
  /** One weight per ranking; default 1 each. */
  weights?: readonly number[];
}

/** Fuses rankings of passage indices into one of at most `depth` passages. */
export function reciprocalRankFusion(rankings: readonly ArrayLike<number>[], depth: number, options: FusionOptions = {}): TopKResult {
  const k = options.k ?? DEFAULT_RRF_K;
  if (!Number.isFinite(k) || k < 0) throw new RangeError(`RRF k must be a finite number >= 0, got ${k}`);
  const weights = options.weights ?? rankings.map(() => 1);
  if (weights.length !== rankings.length) throw new RangeError(`${weights.length} weights for ${rankings.length} rankings`);
  const fused = new Map<number, number>();
  rankings.forEach((ranking, r) => {
    const weight = weights[r]!;
    for (let i = 0; i < ranking.length; i++) {
      const passage = ranking[i]!;
      fused.set(passage, (fused.get(passage) ?? 0) + weight / (k + i + 1));
    }
  });
  const top = new TopK(Math.min(depth, fused.size));
  for (const [passage, score] of fused) top.push(passage, score);
  return top.result();
}
