import { describe, expect, it } from 'vitest';
import { cosine, formatNumber, norm, rankHits, resultSummary } from '../../../src/playground/client/scores.js';

describe('score arithmetic', () => {
  it('norm and cosine', () => {
    expect(norm([3, 4])).toBe(5);
    expect(cosine([1, 0], [0, 2])).toBe(0);
    expect(cosine([1, 1], [2, 2])).toBeCloseTo(1, 12);
    expect(cosine([1, 0], [-3, 0])).toBe(-1);
    expect(cosine([0, 0], [1, 0])).toBeNaN();
  });

  it('formats fixed digits, and a dash for what is not finite', () => {
    expect(formatNumber(0.123456, 4)).toBe('0.1235');
    expect(formatNumber(-2, 3)).toBe('-2.000');
    expect(formatNumber(Number.NaN, 4)).toBe('—');
    expect(formatNumber(Number.POSITIVE_INFINITY, 4)).toBe('—');
  });
});

describe('rankHits', () => {
  const embedding = [
    [1, 0],
    [2, 0],
    [0, 3],
    [-1, 0],
    [4, 0],
  ];

  it('orders by score, highest first, ties in input order, with cosine and bar per sentence', () => {
    const ranked = rankHits(embedding, [2, 0, -1, 2]);
    expect(ranked.map((h) => h.index)).toEqual([0, 3, 1, 2]);
    expect(ranked.map((h) => h.cosine)).toEqual([1, 1, 0, -1]);
    // Bars are |score| relative to the largest |score|: negative scores get a bar too.
    expect(ranked.map((h) => h.barPercent)).toEqual([100, 100, 0, 50]);
  });

  it('all-zero scores give empty bars, not NaN; no sentences give no hits', () => {
    expect(rankHits(embedding.slice(0, 3), [0, 0]).map((h) => h.barPercent)).toEqual([0, 0]);
    expect(rankHits([[1, 2]], [])).toEqual([]);
  });

  it('the summary names the best sentence (1-based) with its numbers', () => {
    expect(resultSummary(rankHits(embedding, [0.5, 0.25, -1, 0.75]))).toBe(
      '结果：4 个句子按点积从高到低排序；最相近的是输入第 4 句（点积 0.7500，余弦 1.0000）。',
    );
    expect(resultSummary([])).toBe('结果：没有待比较的句子，只返回了源句子的向量。');
  });
});
