/**
 * `corom eval --rerank`: the second stage's plumbing on hand-checked sets. A deterministic reranker
 * (logits from a table) gives metrics worked out by hand below; the tiny-ranker fixture's own logits,
 * computed in the test, give the expected reranked order; the CLI runs it on CMRC data end to end
 * (random weights: the numbers mean nothing and no ordering is asserted).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRanker } from '../../src/engine/load.js';
import { parseMetrics } from '../../src/eval/metrics.js';
import { rerankRankings, rerankTop, type EvalReranker } from '../../src/eval/rerank.js';
import { evaluate } from '../../src/eval/run.js';
import { BM25EvalRetriever } from '../../src/eval/retrievers.js';
import type { RetrievalDataset } from '../../src/eval/types.js';
import { runCli } from '../helpers/cli.js';
import { convertedRanker } from '../helpers/ranker-fixture.js';
import { THREE_PASSAGES, THREE_QUESTIONS, writeThreeQuestionSet } from '../helpers/three-question-set.js';

const rankings = (...lists: number[][]) => lists.map((l) => Int32Array.from(l));

/** Five passages, two queries; passage texts are their ids so the fake reranker can look them up. */
function handDataset(): RetrievalDataset {
  return {
    format: 'msmarco',
    source: 'hand',
    passageIds: ['p0', 'p1', 'p2', 'p3', 'p4'],
    passageTexts: ['p0', 'p1', 'p2', 'p3', 'p4'],
    queryIds: ['q0', 'q1'],
    queryTexts: ['q0', 'q1'],
    relevant: [Int32Array.of(3), Int32Array.of(1, 4)],
    skippedQueries: [],
  };
}

/** Logits by (query text, passage text); records every call. */
function tableReranker(table: Record<string, Record<string, number>>): EvalReranker & { calls: { query: string; passages: string[] }[] } {
  const calls: { query: string; passages: string[] }[] = [];
  return {
    calls,
    async rank(query, passages) {
      calls.push({ query, passages: [...passages] });
      return { logits: passages.map((p) => table[query]![p]!) };
    },
  };
}

describe('rerankTop', () => {
  it('reorders the top K by logit, keeps first-stage order on ties and everything below K in place', () => {
    expect(Array.from(rerankTop(Int32Array.of(4, 3, 2, 1, 0), [0, 0, 1, 2], 4))).toEqual([1, 2, 4, 3, 0]);
    expect(Array.from(rerankTop(Int32Array.of(7, 8, 9), [-1, 5, 2], 10))).toEqual([8, 9, 7]); // K beyond the ranking
    expect(Array.from(rerankTop(Int32Array.of(7, 8, 9), [3], 1))).toEqual([7, 8, 9]);
  });

  it('refuses a reranker answer of the wrong length or with NaN', () => {
    expect(() => rerankTop(Int32Array.of(1, 2, 3), [1, 2], 3)).toThrow(/2 logits for 3 passages/);
    expect(() => rerankTop(Int32Array.of(1, 2), [1, NaN], 2)).toThrow(/NaN for passage 2/);
  });
});

describe('rerankRankings + metrics on a hand-checked set', () => {
  // q0: first stage [p0 p1 p2 p3 p4], relevant p3 (rank 4). Reranking the top 4 with
  //     logits p0 .1, p1 .5, p2 .2, p3 .9 gives [p3 p1 p2 p0] + [p4]: p3 at rank 1.
  // q1: first stage [p4 p3 p2 p1 p0], relevant p1 (rank 4) and p4 (rank 1). Logits p4 0, p3 0
  //     (a tie: p4 stays ahead), p2 1, p1 2 give [p1 p2 p4 p3] + [p0].
  // Before: mrr@10 (1/4 + 1)/2 = 0.625, recall@1 (0 + 1/2)/2 = 0.25, recall@3 (0 + 1/2)/2 = 0.25.
  // After:  mrr@10 (1 + 1)/2 = 1,       recall@1 (1 + 1/2)/2 = 0.75, recall@3 (1 + 1)/2 = 1.
  const table = { q0: { p0: 0.1, p1: 0.5, p2: 0.2, p3: 0.9, p4: 5 }, q1: { p4: 0, p3: 0, p2: 1, p1: 2, p0: 9 } };
  const first = rankings([0, 1, 2, 3, 4], [4, 3, 2, 1, 0]);
  const metrics = parseMetrics('mrr@10,recall@1,recall@3');

  it('reranks exactly the top K of each query and gives the expected metrics', async () => {
    const { evaluateRankings } = await import('../../src/eval/metrics.js');
    const dataset = handDataset();
    const reranker = tableReranker(table);
    const { rankings: after, pairs } = await rerankRankings(dataset, [0, 1], first, reranker, 4);
    expect(reranker.calls).toEqual([
      { query: 'q0', passages: ['p0', 'p1', 'p2', 'p3'] },
      { query: 'q1', passages: ['p4', 'p3', 'p2', 'p1'] },
    ]);
    expect(pairs).toBe(8);
    expect(after.map((r) => Array.from(r))).toEqual([
      [3, 1, 2, 0, 4],
      [1, 2, 4, 3, 0],
    ]);
    expect(evaluateRankings(first, dataset.relevant, metrics).values).toEqual({ 'mrr@10': 0.625, 'recall@1': 0.25, 'recall@3': 0.25 });
    expect(evaluateRankings(after, dataset.relevant, metrics).values).toEqual({ 'mrr@10': 1, 'recall@1': 0.75, 'recall@3': 1 });
  });

  it('rejects a depth that is not a positive integer', async () => {
    await expect(rerankRankings(handDataset(), [0, 1], first, tableReranker(table), 0)).rejects.toThrow(/positive integer/);
  });
});

describe('evaluate() with a reranker', () => {
  it('reports the first stage unchanged and the reranked metrics of the whole-collection rerank', async () => {
    // Reranking all 5 passages makes the final order depend on the logits alone:
    //   q0: p4 5 > p3 .9 > p1 .5 > p2 .2 > p0 .1 -> p3 at rank 2; q1: p0 9 > p1 2 > p2 1 > p4 = p3 0.
    //   The q1 tie p4/p3 follows the BM25 order; p1 is at rank 2 either way, p4 at rank 4 or 5.
    // mrr@10 (1/2 + 1/2)/2 = 0.5; recall@1 0; recall@3 (1 + 1/2)/2 = 0.75.
    const dataset = handDataset();
    const metrics = parseMetrics('mrr@10,recall@1,recall@3');
    const reranker = tableReranker({ q0: { p0: 0.1, p1: 0.5, p2: 0.2, p3: 0.9, p4: 5 }, q1: { p4: 0, p3: 0, p2: 1, p1: 2, p0: 9 } });
    const plain = await evaluate(dataset, { retriever: 'bm25', metrics });
    const run = await evaluate(dataset, { retriever: 'bm25', metrics, rerank: { depth: 5 } }, { reranker });
    expect(run.result.values).toEqual(plain.result.values);
    expect(run.rerank).toMatchObject({ depth: 5, pairs: 10 });
    expect(run.rerank!.model).toBeUndefined();
    expect(run.rerank!.result.values).toEqual({ 'mrr@10': 0.5, 'recall@1': 0, 'recall@3': 0.75 });
    // The reranker saw each query's BM25 top 5, in BM25 order.
    const bm25 = await new BM25EvalRetriever(dataset).rank([0, 1], 5);
    expect(reranker.calls.map((c) => c.passages)).toEqual(bm25.map((r) => Array.from(r, (p) => `p${p}`)));
  });

  it('needs a ranker and a positive depth', async () => {
    const metrics = parseMetrics('mrr@10');
    await expect(evaluate(handDataset(), { retriever: 'bm25', metrics, rerank: { depth: 3 } })).rejects.toThrow(/needs a ranker model/);
    await expect(evaluate(handDataset(), { retriever: 'bm25', metrics, rerank: { depth: 0 } }, { reranker: tableReranker({}) })).rejects.toThrow(/positive integer/);
  });
});

describe('corom eval --rerank with the tiny-ranker fixture', () => {
  let dir: string;
  let tiny: string;
  let ranker: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'corom-eval-rerank-'));
    tiny = join(dir, 'tiny.json');
    await writeThreeQuestionSet(tiny);
    ranker = await convertedRanker('fp32');
  }, 120_000);
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reranks the whole collection: the metrics follow the fixture logits computed here', async () => {
    const r = await runCli(['eval', '--retriever', 'bm25', '--dataset', tiny, '--rerank', ranker, '--rerank-depth', '3', '--metrics', 'mrr@10,recall@1,recall@2', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('reranking queries: 3/3 done');
    const out = JSON.parse(r.stdout);
    // BM25 ranks each question's own passage first on this set (see test/helpers/three-question-set.ts).
    expect(out.metrics).toEqual({ 'mrr@10': 1, 'recall@1': 1, 'recall@2': 1 });
    expect(out.rerank).toMatchObject({ depth: 3, pairs: 9, model: { path: ranker, dtype: 'fp32', maxLength: 128 } });

    // Expected: each query's own passage's rank among the three by the fixture's logits (ties cannot
    // be broken by logits alone, so the test needs them distinct, which it checks).
    const model = await loadRanker({ model: ranker, threads: 1 });
    try {
      let mrr = 0;
      let r1 = 0;
      let r2 = 0;
      for (let q = 0; q < 3; q++) {
        const { logits } = await model.rank(THREE_QUESTIONS[q]!, THREE_PASSAGES);
        expect(new Set(logits).size).toBe(3);
        const rank = 1 + logits.filter((l) => l > logits[q]!).length;
        mrr += 1 / rank;
        r1 += rank <= 1 ? 1 : 0;
        r2 += rank <= 2 ? 1 : 0;
      }
      expect(out.rerank.metrics['mrr@10']).toBeCloseTo(mrr / 3, 12);
      expect(out.rerank.metrics['recall@1']).toBeCloseTo(r1 / 3, 12);
      expect(out.rerank.metrics['recall@2']).toBeCloseTo(r2 / 3, 12);
      for (const k of Object.keys(out.metrics)) expect(out.rerank.delta[k]).toBeCloseTo(out.rerank.metrics[k] - out.metrics[k], 12);
    } finally {
      await model.close();
    }
  });

  it('runs end to end on CMRC 2018 and prints both columns', async () => {
    const r = await runCli(['eval', '--retriever', 'bm25', '--dataset', 'data/cmrc2018/cmrc2018_trial.json', '--limit', '12', '--rerank', ranker, '--rerank-depth', '8']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/rerank {5}cross-encoder, model .*pairs truncated longest_first at 128; top 8 of the first stage, 96 pairs/);
    expect(r.stdout).toMatch(/metric\s+bm25\s+reranked\s+delta/);
    for (const m of ['mrr@10', 'recall@1', 'recall@50', 'recall@1000']) expect(r.stdout).toMatch(new RegExp(`${m}\\s+\\d\\.\\d{4}\\s+\\d\\.\\d{4}\\s+[+-]\\d\\.\\d{4}`));
    // Reranking only reorders the top 8: recall beyond it cannot change.
    expect(r.stdout).toMatch(/recall@50\s+(\d\.\d{4})\s+\1\s+\+0\.0000/);
  });

  it('reranks a dense first stage too (the embedder and the ranker loaded one after the other)', async () => {
    const { convertedFixture } = await import('../helpers/fixture.js');
    const embedder = await convertedFixture('fp32');
    await convertedRanker('int8'); // the same folder, now with the int8 model too
    const r = await runCli(['eval', '--retriever', 'dense', '--model', embedder, '--dataset', 'data/cmrc2018/cmrc2018_trial.json', '--limit', '5', '--rerank', ranker, '--rerank-depth', '6', '--rerank-dtype', 'int8', '--no-cache', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ retriever: 'dense', queries: 5, settings: { depth: 1000 }, rerank: { depth: 6, pairs: 30, model: { dtype: 'int8' } } });
    expect(Object.keys(out.rerank.metrics)).toEqual(['mrr@10', 'recall@1', 'recall@50', 'recall@1000']);
    expect(out.rerank.metrics['recall@50']).toBe(out.metrics['recall@50']);
  });

  it.each([
    [['--rerank-depth', '5'], /--rerank-depth applies only with --rerank DIR/],
    [['--rerank', 'r', '--rerank-depth', '0'], /--rerank-depth must be a positive integer/],
    [['--rerank', 'r', '--rerank-dtype', 'fp16'], /--rerank-dtype must be one of fp32, int8, q4/],
  ])('usage error for %j', async (args, message) => {
    const r = await runCli(['eval', '--retriever', 'bm25', '--dataset', tiny, ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('an embedding model given to --rerank is a clear error naming its kind', async () => {
    const { convertedFixture } = await import('../helpers/fixture.js');
    const embedder = await convertedFixture('fp32');
    const r = await runCli(['eval', '--retriever', 'bm25', '--dataset', tiny, '--rerank', embedder]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/embedding/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
