/** Score arithmetic and formatting for the results: ranking, cosines, bar widths, the summary line. */

/** Fixed digits, or an em dash for NaN/Infinity (a zero vector's cosine). */
export function formatNumber(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : '—';
}

export function norm(vector: readonly number[]): number {
  let sum = 0;
  for (const x of vector) sum += x * x;
  return Math.sqrt(sum);
}

export function cosine(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i] * b[i];
  return dot / (norm(a) * norm(b));
}

export interface RankedHit {
  /** Index among the sentences to compare (0-based). */
  index: number;
  /** The API's score: source · sentence. */
  score: number;
  /** Cosine of the source's and the sentence's vectors. */
  cosine: number;
  /** Bar length: |score| over the largest |score|, in percent. */
  barPercent: number;
}

/**
 * The sentences to compare, highest score first (ties keep input order). `embedding[0]` is the
 * source's vector, `embedding[i + 1]` sentence i's.
 */
export function rankHits(embedding: readonly (readonly number[])[], scores: readonly number[]): RankedHit[] {
  const scale = Math.max(...scores.map(Math.abs), Number.MIN_VALUE);
  return scores
    .map((score, index) => ({ index, score, cosine: cosine(embedding[0], embedding[index + 1]), barPercent: (Math.abs(score) / scale) * 100 }))
    .sort((a, b) => b.score - a.score || a.index - b.index);
}

export function resultSummary(ranked: readonly RankedHit[]): string {
  const best = ranked[0];
  return best
    ? `结果：${ranked.length} 个句子按点积从高到低排序；最相近的是输入第 ${best.index + 1} 句（点积 ${formatNumber(best.score, 4)}，余弦 ${formatNumber(best.cosine, 4)}）。`
    : '结果：没有待比较的句子，只返回了源句子的向量。';
}
