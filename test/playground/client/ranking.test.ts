import { describe, expect, it } from 'vitest';
import { modelOptionLabel, modelsOfKind, type ModelCard } from '../../../src/playground/client/models.js';
import { buildRankingRequest, checkRankingInput, parseRankingOutput, rankingSummary, rankPassages, splitPassages } from '../../../src/playground/client/ranking.js';
import { RANKING_CARD_EXAMPLE } from '../../../src/playground/examples.js';

describe('ranking request', () => {
  it('is the text-ranking pipeline body, with the model only when one is selected', () => {
    expect(buildRankingRequest('ranker', '功和功率的区别', ['a', 'b'])).toEqual({ model: 'ranker', input: { source_sentence: ['功和功率的区别'], sentences_to_compare: ['a', 'b'] } });
    expect(buildRankingRequest('', 'q', ['p'])).toEqual({ input: { source_sentence: ['q'], sentences_to_compare: ['p'] } });
  });

  it('takes one passage per line, trimmed, without blank lines', () => {
    expect(splitPassages(' 第一段 \r\n\n第二段\n   \n')).toEqual(['第一段', '第二段']);
    expect(splitPassages(RANKING_CARD_EXAMPLE.passages.join('\n'))).toEqual([...RANKING_CARD_EXAMPLE.passages]);
  });

  it('refuses an empty query or no passages before sending', () => {
    expect(checkRankingInput('  ', ['p'])).toMatchObject({ focus: 'query' });
    expect(checkRankingInput('q', [])).toMatchObject({ focus: 'passages' });
    expect(checkRankingInput('q', ['p'])).toBeUndefined();
  });
});

describe('ranking response', () => {
  it('accepts one score in 0..1 per passage', () => {
    expect(parseRankingOutput({ scores: [0.9, 0, 1] }, 3)).toEqual({ ok: true, scores: [0.9, 0, 1] });
  });

  it.each([
    [{ scores: [0.5] }, 2],
    [{ scores: [0.5, '0.2'] }, 2],
    [{ scores: [0.5, 1.5] }, 2],
    [{ scores: [-0.1] }, 1],
    [{ scores: [Number.NaN] }, 1],
    [{ text_embedding: [[1]] }, 1],
    [null, 1],
  ])('refuses %j for %i passages with a message naming the expected shape', (payload, count) => {
    const parsed = parseRankingOutput(payload, count);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.message).toContain(`${count} 个 0 到 1 之间的分数`);
  });
});

describe('rankPassages', () => {
  it('orders best first, ties in input order, bars as percentages of the score', () => {
    expect(rankPassages([0.2, 0.9, 0.2, 0.95])).toEqual([
      { index: 3, score: 0.95, barPercent: 95 },
      { index: 1, score: 0.9, barPercent: 90 },
      { index: 0, score: 0.2, barPercent: 20 },
      { index: 2, score: 0.2, barPercent: 20 },
    ]);
    expect(rankPassages([])).toEqual([]);
  });

  it('summarises the best passage', () => {
    expect(rankingSummary(rankPassages([0.1, 0.75]))).toBe('结果：2 个段落按相关性分数从高到低排序；最相关的是输入第 2 段（分数 0.7500）。');
    expect(rankingSummary([])).toBe('结果：没有段落。');
  });
});

describe('models by kind', () => {
  const embedder: ModelCard = { id: 'e', dimensions: 768, max_length: 128, backend: 'cpu', dtype: 'fp32', kind: 'embedding' };
  const ranker: ModelCard = { id: 'r', max_length: 128, backend: 'cpu', dtype: 'int8', kind: 'rerank' };

  it('each view gets its kind when the server reports kinds', () => {
    expect(modelsOfKind([embedder, ranker], 'embedding')).toEqual([embedder]);
    expect(modelsOfKind([embedder, ranker], 'rerank')).toEqual([ranker]);
    expect(modelsOfKind([embedder], 'rerank')).toEqual([]);
  });

  it('both views get every model from an older server that reports no kind', () => {
    const old = [{ id: 'a', dimensions: 32, max_length: 128, backend: 'cpu', dtype: 'fp32' }];
    expect(modelsOfKind(old, 'embedding')).toEqual(old);
    expect(modelsOfKind(old, 'rerank')).toEqual(old);
  });

  it('labels a ranker without dimensions', () => {
    expect(modelOptionLabel(ranker)).toBe('r（排序模型 · int8 · cpu）');
    expect(modelOptionLabel(embedder)).toBe('e（768 维 · fp32 · cpu）');
  });
});

describe('the ranking example', () => {
  it('is the ranker card code example: the query and three passages', () => {
    expect(RANKING_CARD_EXAMPLE.query).toBe('功和功率的区别');
    expect(RANKING_CARD_EXAMPLE.passages).toHaveLength(3);
    expect(RANKING_CARD_EXAMPLE.passages[0]).toBe('功反映做功多少，功率反映做功快慢。');
    expect(RANKING_CARD_EXAMPLE.passages[1]!.endsWith('一种是无功功率。')).toBe(true);
    expect(RANKING_CARD_EXAMPLE.passages[2]!.startsWith('优质解答在物理学中')).toBe(true);
  });
});
