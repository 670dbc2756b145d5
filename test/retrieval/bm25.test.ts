/** BM25 terms and scores, checked against a direct evaluation of the formula. */
import { describe, expect, it } from 'vitest';
import { BM25Index } from '../../src/retrieval/bm25.js';
import { bm25Terms } from '../../src/retrieval/bm25-terms.js';

const DOCS = [
  '北京是中国的首都，北京的天气四季分明。',
  '上海是中国最大的城市之一。',
  '今天北京天气晴朗，适合出游。今天北京天气很好。',
  'Windows 10 和 macOS 都是操作系统。',
  '',
  '天气预报说明天下雨。',
];

/** Straight from the definition: no index, no folded impacts. */
function referenceScores(docs: string[], query: string, k1: number, b: number): number[] {
  const termsOf = docs.map(bm25Terms);
  const avgdl = termsOf.reduce((s, t) => s + t.length, 0) / docs.length;
  const n = docs.length;
  return termsOf.map((terms) => {
    let score = 0;
    for (const term of bm25Terms(query)) {
      const tf = terms.filter((t) => t === term).length;
      if (tf === 0) continue;
      const df = termsOf.filter((t) => t.includes(term)).length;
      const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
      score += (idf * (tf * (k1 + 1))) / (tf + k1 * (1 - b + (b * terms.length) / avgdl));
    }
    return score;
  });
}

describe('bm25Terms', () => {
  it('gives CJK unigrams and bigrams, lower-cased words, no punctuation', () => {
    expect(bm25Terms('北京天气')).toEqual(['北', '北京', '京', '京天', '天', '天气', '气']);
    expect(bm25Terms('Hello, World! 2024年')).toEqual(['hello', 'world', '2024', '年']);
    expect(bm25Terms('ＡＢＣ１２３')).toEqual(['abc123']);
    expect(bm25Terms('abc中文')).toEqual(['abc', '中', '中文', '文']);
    expect(bm25Terms('。，！')).toEqual([]);
  });

  it('keeps characters outside the BMP whole', () => {
    expect(bm25Terms('𠀀𠀁')).toEqual(['𠀀', '𠀀𠀁', '𠀁']);
  });
});

describe('BM25Index', () => {
  for (const [k1, b] of [
    [1.2, 0.75],
    [0, 0.75],
    [2, 0],
    [0.9, 1],
  ] as const) {
    it(`matches the formula (k1 ${k1}, b ${b})`, () => {
      const index = BM25Index.build(DOCS, { k1, b });
      for (const query of ['北京天气', '中国的城市', 'windows 操作系统', '天气 天气', '不存在的词xyz']) {
        const expected = referenceScores(DOCS, query, k1, b);
        const top = index.search(query, DOCS.length);
        const positive = expected.map((s, i) => [i, s] as const).filter(([, s]) => s > 0);
        positive.sort((x, y) => y[1] - x[1] || x[0] - y[0]);
        expect(Array.from(top.indices)).toEqual(positive.map(([i]) => i));
        top.indices.forEach((doc, r) => expect(top.scores[r]).toBeCloseTo(expected[doc]!, 5));
      }
    });
  }

  it('counts a repeated query term once per occurrence', () => {
    const index = BM25Index.build(DOCS);
    const once = index.search('上海', 1).scores[0]!;
    const twice = index.search('上海上海', 1).scores[0]!;
    // '上海上海' adds the bigram '海上', which no document has; the rest doubles.
    expect(twice).toBeCloseTo(2 * once, 5);
  });

  it('fills with unmatched documents in collection order only when asked', () => {
    const index = BM25Index.build(DOCS);
    expect(Array.from(index.search('上海', 10).indices)).toEqual([1]);
    const filled = index.search('上海', 4, { fillWithUnmatched: true });
    expect(Array.from(filled.indices)).toEqual([1, 0, 2, 3]);
    expect(Array.from(filled.scores.subarray(1))).toEqual([0, 0, 0]);
    expect(index.search('上海', 100, { fillWithUnmatched: true }).indices.length).toBe(DOCS.length);
  });

  it('leaves no state behind between queries', () => {
    const index = BM25Index.build(DOCS);
    const first = index.search('北京天气', 3);
    index.search('中国', 3);
    expect(index.search('北京天气', 3)).toEqual(first);
  });

  it('rejects out-of-range parameters and handles an empty collection', () => {
    expect(() => BM25Index.build(DOCS, { b: 1.5 })).toThrow(RangeError);
    expect(() => BM25Index.build(DOCS, { k1: -1 })).toThrow(RangeError);
    expect(BM25Index.build([]).search('北京', 5).indices.length).toBe(0);
  });
});
