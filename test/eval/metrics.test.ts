/** Metrics and the ranking tie rule on hand-computed rankings. */
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { reciprocalRankFusion } from '../../src/eval/fusion.js';
import { evaluateRankings, metricDepth, parseMetrics, recallAt, reciprocalRankAt } from '../../src/eval/metrics.js';
import { TopK, topKOfScores } from '../../src/eval/topk.js';

const r = (...ids: number[]) => Int32Array.from(ids);

describe('parseMetrics', () => {
  it('reads the model card list, canonicalises case and drops repeats', () => {
    const specs = parseMetrics('MRR@10, recall@1,recall@50,recall@1000,mrr@10');
    expect(specs.map((s) => s.label)).toEqual(['mrr@10', 'recall@1', 'recall@50', 'recall@1000']);
    expect(metricDepth(specs)).toBe(1000);
  });

  it.each(['ndcg@10', 'mrr@0', 'recall@', 'mrr10', ','])('rejects %j with a usage error', (text) => {
    expect(() => parseMetrics(text)).toThrow(UsageError);
  });
});

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

describe('MRR@k and Recall@k', () => {
  it('per query, by hand', () => {
    expect(reciprocalRankAt(r(5, 2, 7), r(2), 10)).toBe(0.5);
    expect(reciprocalRankAt(r(5, 2, 7), r(2), 1)).toBe(0);
    expect(reciprocalRankAt(r(3, 0, 1), r(1, 3), 10)).toBe(1);
    expect(recallAt(r(3, 0, 1), r(1, 3), 1)).toBe(0.5);
    expect(recallAt(r(3, 0, 1), r(1, 3), 2)).toBe(0.5);
    expect(recallAt(r(3, 0, 1), r(1, 3), 3)).toBe(1);
    // k larger than the ranking (collection of 3): the whole ranking counts.
    expect(recallAt(r(3, 0, 1), r(1, 3), 1000)).toBe(1);
    expect(recallAt(r(0, 1), r(9), 1000)).toBe(0);
  });

  it('averages over queries with qrels only and counts the others', () => {
    const rankings = [r(5, 2, 7), r(3, 0, 1), r(4, 4, 4), r(0, 1)];
    const relevant = [r(2), r(1, 3), r(), r(9)];
    const result = evaluateRankings(rankings, relevant, parseMetrics('mrr@10,recall@1,recall@2,recall@1000'));
    expect(result.evaluatedQueries).toBe(3);
    expect(result.queriesWithoutQrels).toBe(1);
    expect(result.values['mrr@10']).toBeCloseTo((0.5 + 1 + 0) / 3, 12);
    expect(result.values['recall@1']).toBeCloseTo((0 + 0.5 + 0) / 3, 12);
    expect(result.values['recall@2']).toBeCloseTo((1 + 0.5 + 0) / 3, 12);
    expect(result.values['recall@1000']).toBeCloseTo((1 + 1 + 0) / 3, 12);
  });

  it('ties decide MRR through the ranking: the earlier passage wins', () => {
    // Passages 1 and 3 tie at the top; only 3 is relevant, so it sits at rank 2.
    const ranking = topKOfScores([0.5, 0.9, 0.5, 0.9], 10).indices;
    const result = evaluateRankings([ranking], [r(3)], parseMetrics('mrr@10,recall@1'));
    expect(result.values['mrr@10']).toBe(0.5);
    expect(result.values['recall@1']).toBe(0);
  });

  it('gives NaN (not 0) when no query has qrels', () => {
    const result = evaluateRankings([r(0)], [r()], parseMetrics('mrr@10'));
    expect(result.evaluatedQueries).toBe(0);
    expect(Number.isNaN(result.values['mrr@10'])).toBe(true);
  });

  it('refuses rankings and qrels of different lengths', () => {
    expect(() => evaluateRankings([r(0)], [], parseMetrics('mrr@10'))).toThrow(RangeError);
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
