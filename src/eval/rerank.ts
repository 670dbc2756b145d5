/**
 * The second stage of `corom eval --rerank`: a cross-encoder re-scores each query's first-stage top
 * K passages (dense, BM25 or hybrid) and reorders them; everything below K keeps its place, so the
 * metrics before and after differ only by what the cross-encoder did with the top K.
 */
import { SILENT_PROGRESS, type Progress } from './progress.js';
import type { Ranking, RetrievalDataset } from './types.js';

/**
 * What reranking needs from a cross-encoder: one relevance logit per passage, in input order.
 * The engine's Ranker satisfies it (its `rank` also gives sigmoid scores; logits are used because
 * sigmoid saturates to exactly 1.0 in float for large logits, which would create false ties).
 */
export interface EvalReranker {
  rank(query: string, passages: readonly string[]): Promise<{ logits: readonly number[] }>;
}

/**
 * The ranking with its first min(depth, length) entries reordered by `logits` (one per reranked
 * entry, highest first). Equal logits keep their first-stage order (the eval's stable tie rule).
 */
export function rerankTop(ranking: Ranking, logits: ArrayLike<number>, depth: number): Ranking {
  const k = Math.min(depth, ranking.length);
  if (logits.length !== k) throw new RangeError(`reranker returned ${logits.length} logits for ${k} passages`);
  for (let i = 0; i < k; i++) if (Number.isNaN(logits[i]!)) throw new RangeError(`reranker returned NaN for passage ${ranking[i]}`);
  const order = Array.from({ length: k }, (_, i) => i).sort((a, b) => logits[b]! - logits[a]! || a - b);
  const out = new Int32Array(ranking.length);
  order.forEach((from, to) => {
    out[to] = ranking[from]!;
  });
  out.set(ranking.subarray(k), k);
  return out;
}

export interface RerankResult {
  rankings: Ranking[];
  /** (query, passage) pairs scored. */
  pairs: number;
}

/** Reranks each query's first-stage ranking (`rankings[i]` belongs to `queryIndices[i]`) `depth` deep. */
export async function rerankRankings(
  dataset: RetrievalDataset,
  queryIndices: readonly number[],
  rankings: readonly Ranking[],
  reranker: EvalReranker,
  depth: number,
  progress: Progress = SILENT_PROGRESS,
): Promise<RerankResult> {
  if (!Number.isInteger(depth) || depth < 1) throw new RangeError(`rerank depth must be a positive integer (got ${depth})`);
  if (rankings.length !== queryIndices.length) throw new RangeError(`${rankings.length} rankings for ${queryIndices.length} queries`);
  const out: Ranking[] = [];
  let pairs = 0;
  progress.start('reranking queries', queryIndices.length);
  try {
    for (let i = 0; i < queryIndices.length; i++) {
      const ranking = rankings[i]!;
      const top = Array.from(ranking.subarray(0, Math.min(depth, ranking.length)), (p) => dataset.passageTexts[p]!);
      const { logits } = top.length === 0 ? { logits: [] } : await reranker.rank(dataset.queryTexts[queryIndices[i]!]!, top);
      out.push(rerankTop(ranking, logits, depth));
      pairs += top.length;
      progress.update(i + 1);
    }
  } finally {
    progress.stop();
  }
  return { rankings: out, pairs };
}
