/** The ranking tie rule (top-k) and reciprocal rank fusion on hand-computed rankings. */
import { describe, expect, it } from 'vitest';
import { reciprocalRankFusion } from '../../src/retrieval/fusion.js';
import { TopK, topKOfScores } from '../../src/retrieval/topk.js';

const r = (...ids: number[]) => Int32Array.from(ids);

describe('tie rule: score descending, then passage order', () => {
  it('ranks equal scores by passage index whatever the push order', () => {
    const scores = [0.5, 0.9, 0.5, 0.9, 0.1];
    expect(Array.from(topKOfScores(scores, 5).indices)).toEqual([1, 3, 0, 2, 4]);
    const heap = new TopK(3);
    for (const i of [4, 3, 2, 1, 0]) heap.push(i, scores[i]!);
    const top = heap.result();
    expect(Array.from(top.indices)).toEqual([1, 3, 0]);
    expect(Array.from(top.scores)).toEqual([0.9, 0.9, 0.5]);
    expect(heap.size).toBe(0); // result() empties the heap for reuse
  });

  it('keeps the earlier passage when a tie straddles the cut', () => {
    const heap = new TopK(2);
    for (const i of [7, 5, 9, 6]) heap.push(i, 1);
    expect(Array.from(heap.result().indices)).toEqual([5, 6]);
  });

  it('puts NaN scores last and returns fewer items when k exceeds the collection', () => {
    const top = topKOfScores([Number.NaN, 0.2, -1], 10);
    expect(Array.from(top.indices)).toEqual([1, 2, 0]);
  });

  it('agrees with a full sort on random scores with many ties', () => {
    let state = 12345;
    const next = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) % 7;
    for (const k of [1, 5, 40, 200]) {
      const scores = Array.from({ length: 150 }, next);
      const expected = scores
        .map((s, i) => [i, s] as const)
        .sort((a, b) => b[1] - a[1] || a[0] - b[0])
        .slice(0, k)
        .map(([i]) => i);
      expect(Array.from(topKOfScores(scores, k).indices)).toEqual(expected);
    }
  });

  it('k = 0 keeps nothing', () => {
    const heap = new TopK(0);
    heap.push(0, 1);
    expect(heap.result().indices.length).toBe(0);
  });
});

describe('reciprocal rank fusion', () => {
  it('sums 1/(k + rank) across rankings, by hand', () => {
    const fused = reciprocalRankFusion([r(0, 1, 2), r(2, 0, 3)], 10, { k: 60 });
    expect(Array.from(fused.indices)).toEqual([0, 2, 1, 3]);
    expect(fused.scores[0]).toBeCloseTo(1 / 61 + 1 / 62, 15);
    expect(fused.scores[1]).toBeCloseTo(1 / 61 + 1 / 63, 15);
    expect(fused.scores[2]).toBeCloseTo(1 / 62, 15);
    expect(fused.scores[3]).toBeCloseTo(1 / 63, 15);
  });

  it('breaks fused ties by passage order and honours depth and weights', () => {
    expect(Array.from(reciprocalRankFusion([r(5, 4), r(4, 5)], 10).indices)).toEqual([4, 5]);
    expect(Array.from(reciprocalRankFusion([r(5, 4), r(4, 5)], 1).indices)).toEqual([4]);
    expect(Array.from(reciprocalRankFusion([r(5, 4), r(4, 5)], 2, { weights: [2, 1] }).indices)).toEqual([5, 4]);
  });
});
