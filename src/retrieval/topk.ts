/**
 * Bounded top-k selection. The tie rule of every ranking in this project lives here: higher score
 * first, and among equal scores the passage that comes first in the collection. NaN scores rank
 * last (as -Infinity) so a broken model gives bad numbers, never an unstable order.
 */

export interface TopKResult {
  indices: Int32Array;
  scores: Float64Array;
}

export class TopK {
  // A binary min-heap on (score, -index): the root is the worst item kept, the one to evict.
  private readonly heapScores: Float64Array;
  private readonly heapIndices: Int32Array;
  private count = 0;

  constructor(readonly k: number) {
    if (!Number.isInteger(k) || k < 0) throw new RangeError(`top-k size must be a non-negative integer, got ${k}`);
    this.heapScores = new Float64Array(k);
    this.heapIndices = new Int32Array(k);
  }

  get size(): number {
    return this.count;
  }

  clear(): void {
    this.count = 0;
  }

  /** a is worse than b: lower score, or the same score and a later passage. */
  private static worse(scoreA: number, indexA: number, scoreB: number, indexB: number): boolean {
    return scoreA < scoreB || (scoreA === scoreB && indexA > indexB);
  }

  push(index: number, rawScore: number): void {
    const score = Number.isNaN(rawScore) ? -Infinity : rawScore;
    if (this.count < this.k) {
      this.siftUp(this.count++, score, index);
    } else if (this.k > 0 && TopK.worse(this.heapScores[0]!, this.heapIndices[0]!, score, index)) {
      this.siftDown(0, score, index, this.count);
    }
  }

  private siftUp(start: number, score: number, index: number): void {
    const scores = this.heapScores;
    const indices = this.heapIndices;
    let i = start;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!TopK.worse(score, index, scores[parent]!, indices[parent]!)) break;
      scores[i] = scores[parent]!;
      indices[i] = indices[parent]!;
      i = parent;
    }
    scores[i] = score;
    indices[i] = index;
  }

  /** Places (score, index) at `start` of the heap of size n, moving worse children up. */
  private siftDown(start: number, score: number, index: number, n: number): void {
    const scores = this.heapScores;
    const indices = this.heapIndices;
    let i = start;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      let child = left;
      if (right < n && TopK.worse(scores[right]!, indices[right]!, scores[left]!, indices[left]!)) child = right;
      if (!TopK.worse(scores[child]!, indices[child]!, score, index)) break;
      scores[i] = scores[child]!;
      indices[i] = indices[child]!;
      i = child;
    }
    scores[i] = score;
    indices[i] = index;
  }

  /** The kept items, best first (a heap sort: repeatedly take the worst and fill from the back). Empties the heap. */
  result(): TopKResult {
    const n = this.count;
    const out: TopKResult = { indices: new Int32Array(n), scores: new Float64Array(n) };
    const scores = this.heapScores;
    const indices = this.heapIndices;
    for (let size = n; size > 0; size--) {
      out.scores[size - 1] = scores[0]!;
      out.indices[size - 1] = indices[0]!;
      const lastScore = scores[size - 1]!;
      const lastIndex = indices[size - 1]!;
      if (size > 1) this.siftDown(0, lastScore, lastIndex, size - 1);
    }
    this.count = 0;
    return out;
  }
}

/** The k best of a dense score array (index = passage order), by the tie rule above. */
export function topKOfScores(scores: ArrayLike<number>, k: number): TopKResult {
  const top = new TopK(Math.min(k, scores.length));
  for (let i = 0; i < scores.length; i++) top.push(i, scores[i]!);
  return top.result();
}
