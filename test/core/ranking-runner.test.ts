/**
 * The RankingRunner and the registry's second task, with a small deterministic RankingModel (no
 * onnxruntime): pairs of concurrent requests share batches under the same limits as embeddings
 * (padded tokens = rows x longest pair, rows per batch), each request gets its logits in its own
 * order with the backend labels; a failed batch fails only its requests; the registry routes by task.
 */
import { describe, expect, it } from 'vitest';
import type { BatchReport } from '../../src/core/batcher.js';
import { resolveBatching } from '../../src/core/batching.js';
import { BatchFailedError, QueueFullError, WrongModelTaskError } from '../../src/core/errors.js';
import { ModelRegistry, taskOf } from '../../src/core/model-registry.js';
import { RankingRunner } from '../../src/core/ranking-runner.js';
import type { RankingModel } from '../../src/core/served-model.js';
import type { TokenPair } from '../../src/engine/types.js';

/** Pair of `query` and a passage: [CLS] q.. [SEP] p.. [SEP]; its logit is a function of its ids. */
function fakeRanker(options: { failOn?: string; delayMs?: number } = {}): RankingModel & { batches: TokenPair[][] } {
  const batches: TokenPair[][] = [];
  const ids = (text: string) => Array.from(text, (ch) => 1000 + (ch.codePointAt(0)! % 5000));
  return {
    task: 'rerank',
    info: { id: 'ranker', kind: 'rerank', hidden: 32, maxLength: 128, dtype: 'fp32', backend: 'fake', vocabSize: 21128 },
    batches,
    tokenizePairs: (query, passages) =>
      passages.map((p) => {
        const q = ids(query);
        const d = ids(p);
        return { ids: Int32Array.from([101, ...q, 102, ...d, 102]), typeIds: Int32Array.from([...Array(q.length + 2).fill(0), ...Array(d.length + 1).fill(1)]) };
      }),
    scorePairs: async (pairs) => {
      batches.push([...pairs]);
      if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
      if (options.failOn && pairs.some((p) => p.ids.includes(1000 + (options.failOn!.codePointAt(0)! % 5000)))) throw new Error('kernel failure');
      return { logits: Float32Array.from(pairs, (p) => p.ids.reduce((a, b) => a + b, 0) / 1000 - p.ids.length), backend: 'fake' };
    },
  };
}

const expectedLogit = (model: RankingModel, query: string, passage: string) => {
  const [pair] = model.tokenizePairs(query, [passage]);
  return Math.fround(pair!.ids.reduce((a, b) => a + b, 0) / 1000 - pair!.ids.length);
};

const options = { timeoutMs: 5000, requestId: 'r' };

describe('RankingRunner', () => {
  it('batches pairs of concurrent requests by padded tokens and rows; each request gets its logits in its own order', async () => {
    const model = fakeRanker();
    const reports: BatchReport[] = [];
    const runner = new RankingRunner(model, resolveBatching({ maxBatchTokens: 60, maxBatchSize: 3, batchWaitMs: 5 }), (r) => reports.push(r));
    const a = ['一二三四五六七八九十', '短', '中等长度'];
    const b = ['乙', '丙丁'];
    const [ra, rb] = await Promise.all([runner.rank('问', a, { ...options, requestId: 'a' }), runner.rank('问题', b, { ...options, requestId: 'b' })]);
    expect(ra.logits).toEqual(a.map((p) => expectedLogit(model, '问', p)));
    expect(rb.logits).toEqual(b.map((p) => expectedLogit(model, '问题', p)));
    expect(ra.tokenCounts).toEqual(model.tokenizePairs('问', a).map((p) => p.ids.length));
    expect(ra.backends).toEqual(['fake']);
    for (const batch of model.batches) {
      expect(batch.length).toBeLessThanOrEqual(3);
      expect(batch.length * Math.max(...batch.map((p) => p.ids.length))).toBeLessThanOrEqual(60);
    }
    // Five pairs, three rows at most: the two requests shared at least one batch.
    expect(reports.some((r) => r.tags.includes('a') && r.tags.includes('b'))).toBe(true);
  });

  it('a failed batch fails only the requests with a pair in it; a full queue refuses before tokenizing', async () => {
    const model = fakeRanker({ failOn: '坏' });
    const runner = new RankingRunner(model, resolveBatching({ enabled: false }), () => {});
    await expect(runner.rank('q', ['坏'], options)).rejects.toBeInstanceOf(BatchFailedError);
    expect((await runner.rank('q', ['好'], options)).logits).toHaveLength(1);

    const slow = new RankingRunner(fakeRanker({ delayMs: 50 }), resolveBatching({ maxQueue: 1 }), () => {});
    const first = slow.rank('q', ['a'], options);
    await expect(slow.rank('q', ['b'], options)).rejects.toBeInstanceOf(QueueFullError);
    await first;
  });
});

describe('the registry with both tasks', () => {
  it('routes by task; the wrong task names the model and its task', async () => {
    const ranker = fakeRanker();
    expect(taskOf(ranker)).toBe('rerank');
    const registry = new ModelRegistry([ranker], resolveBatching(), () => {});
    expect(registry.get('rerank', undefined)).toBeInstanceOf(RankingRunner);
    expect(registry.get('rerank', 'ranker').task).toBe('rerank');
    const wrong = (() => {
      try {
        registry.get('embedding', 'ranker');
      } catch (err) {
        return err;
      }
    })() as WrongModelTaskError;
    expect(wrong).toBeInstanceOf(WrongModelTaskError);
    expect(wrong).toMatchObject({ model: 'ranker', task: 'rerank', wanted: 'embedding', param: 'model' });
  });
});
