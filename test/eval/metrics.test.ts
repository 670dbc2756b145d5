/** Metrics on hand-computed rankings (the tie rule itself: test/retrieval/ranking.test.ts). */
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { topKOfScores } from '../../src/retrieval/topk.js';
import { evaluateRankings, metricDepth, parseMetrics, recallAt, reciprocalRankAt } from '../../src/eval/metrics.js';

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
