/** `corom eval` end to end, in-process: BM25 on a tiny set, dense and hybrid on the fixture model. */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { convertedFixture } from '../helpers/fixture.js';
import { writeThreeQuestionSet } from '../helpers/three-question-set.js';

const TRIAL = 'data/cmrc2018/cmrc2018_trial.json';
let dir: string;
let tiny: string;
let slice: string;
let model: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'corom-eval-cli-'));
  tiny = join(dir, 'tiny.json');
  await writeThreeQuestionSet(tiny);
  // The first 40 articles of the trial set: enough long passages for --chunk, quick on 2 cores.
  const trial = JSON.parse(await readFile(TRIAL, 'utf8')) as { data: unknown[] };
  slice = join(dir, 'slice.json');
  await writeFile(slice, JSON.stringify({ data: trial.data.slice(0, 40) }));
  model = await convertedFixture('fp32', 'int8');
}, 60_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('corom eval --retriever bm25', () => {
  it('prints the table with every metric', async () => {
    const r = await runCli(['eval', '--retriever', 'bm25', '--dataset', tiny]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`dataset    ${tiny} (squad): 3 passages, 3 queries`);
    expect(r.stdout).toContain('3 queries: 3 evaluated, 0 without qrels (excluded)');
    expect(r.stdout).toMatch(/mrr@10\s+1\.0000/);
    expect(r.stdout).toMatch(/recall@1\s+1\.0000/);
    expect(r.stdout).toMatch(/recall@1000\s+1\.0000/);
    expect(r.stderr).toContain('bm25 queries: 3/3 done');
  });

  it('--json with --metrics, --limit, --k1 and --b', async () => {
    const r = await runCli(['eval', '--retriever', 'bm25', '--dataset', TRIAL, '--json', '--metrics', 'mrr@5,recall@5', '--limit', '50', '--k1', '0.9', '--b', '0.4']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.dataset).toMatchObject({ format: 'squad', passages: 256, queries: 1000 });
    expect(out.dataset.skippedQueries).toHaveLength(2);
    expect(out).toMatchObject({ retriever: 'bm25', settings: { k1: 0.9, b: 0.4, depth: 5 }, queries: 50, evaluatedQueries: 50 });
    expect(Object.keys(out.metrics)).toEqual(['mrr@5', 'recall@5']);
    // One relevant passage per question: found in the top 5 means recall 1 >= 1/rank.
    expect(out.metrics['recall@5']).toBeGreaterThanOrEqual(out.metrics['mrr@5']);
  });
});

describe('corom eval --retriever dense / hybrid on the fixture model', () => {
  it('dense: embeds with progress, writes the cache, and reuses it on the second run', async () => {
    const cache = join(dir, 'cache-dense');
    const args = ['eval', '--retriever', 'dense', '--model', model, '--dataset', TRIAL, '--limit', '20', '--json', '--cache-dir', cache];
    const first = await runCli(args);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain('embedding passages: 256/256 done');
    const a = JSON.parse(first.stdout);
    expect(a).toMatchObject({ retriever: 'dense', queries: 20, evaluatedQueries: 20, model: { dtype: 'fp32', dimensions: 32, maxLength: 128 } });
    expect(a.embedding).toMatchObject({ passages: 256, vectors: 256, fromCache: 0 });
    for (const value of Object.values(a.metrics)) expect(value).toBeGreaterThanOrEqual(0);
    expect(a.metrics['recall@1000']).toBe(1); // 256 passages: every ranking is the whole collection
    expect((await readdir(a.embedding.cacheDir)).sort()).toEqual(['chunk-000000.bin', 'meta.json']);

    const second = await runCli(args);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain('embedding passages: 256/256 (256 cached)');
    const b = JSON.parse(second.stdout);
    expect(b.embedding).toMatchObject({ fromCache: 256, cacheDir: a.embedding.cacheDir });
    expect(b.metrics).toEqual(a.metrics);
  });

  it('hybrid with --chunk runs end to end and reports its settings', async () => {
    const r = await runCli(['eval', '--retriever', 'hybrid', '--model', model, '--dataset', slice, '--limit', '10', '--chunk', '--stride', '100', '--rrf-k', '30', '--no-cache']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('retriever  hybrid');
    expect(r.stdout).toContain('chunked (stride 100)');
    expect(r.stdout).toContain('rrf k 30');
    expect(r.stdout).toContain('no cache');
    expect(r.stdout).toMatch(/mrr@10\s+\d\.\d{4}/);
    // More vectors than passages: long passages were split.
    const vectors = Number(/vectors\s+(\d+) passage vectors/.exec(r.stdout)?.[1]);
    expect(vectors).toBeGreaterThan(40);
  });

  it('--compare fp32 int8 reports both runs and B - A deltas', async () => {
    const r = await runCli(['eval', '--retriever', 'dense', '--model', model, '--dataset', tiny, '--compare', 'fp32', 'int8', '--json', '--no-cache']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.compare).toEqual({ a: 'fp32', b: 'int8' });
    expect(out.a.model.dtype).toBe('fp32');
    expect(out.b.model.dtype).toBe('int8');
    for (const metric of Object.keys(out.delta)) expect(out.delta[metric]).toBeCloseTo(out.b.metrics[metric] - out.a.metrics[metric], 12);

    const table = await runCli(['eval', '--retriever', 'dense', '--model', model, '--dataset', tiny, '--compare', 'fp32', 'int8', '--no-cache']);
    expect(table.stdout).toMatch(/metric\s+A fp32\s+B int8\s+delta \(B - A\)/);
  });
});

describe('corom eval errors', () => {
  it.each([
    [['--dataset', 'x'], /missing --retriever/],
    [['--retriever', 'bm25'], /missing --dataset/],
    [['--retriever', 'sparse', '--dataset', 'x'], /--retriever must be one of dense, bm25, hybrid/],
    [['--retriever', 'bm25', '--dataset', 'x', '--k1', 'abc'], /--k1 must be a number >= 0/],
    [['--retriever', 'bm25', '--dataset', 'x', '--b', '2'], /--b must be a number between 0 and 1/],
    [['--retriever', 'bm25', '--dataset', 'x', '--metrics', 'ndcg@10'], /'ndcg@10' is not a metric/],
    [['--retriever', 'bm25', '--dataset', 'x', '--model', 'm'], /--model applies to the dense and hybrid retrievers/],
    [['--retriever', 'bm25', '--dataset', 'x', '--compare', 'fp32', 'int8'], /needs --retriever dense or hybrid/],
    [['--retriever', 'dense', '--dataset', 'x', '--compare', 'fp32'], /--compare needs two values/],
    [['--retriever', 'dense', '--dataset', 'x', '--model', 'm', '--compare', 'fp32', 'other-dir'], /two dtypes \(with --model\) or two model folders/],
    [['--retriever', 'dense', '--dataset', 'x'], /missing --model/],
    [['--retriever', 'bm25', '--dataset', 'x', '--limit', '0'], /--limit must be a positive integer/],
    [['--retriever', 'dense', '--dataset', 'x', '--model', 'm', '--stride', '3'], /--stride only applies with --chunk/],
  ])('usage error for %j', async (args, message) => {
    const r = await runCli(['eval', ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('a bad dataset is one line naming the file, exit 1', async () => {
    const bad = join(dir, 'bad.json');
    await writeFile(bad, '{"data": [ {"paragraphs": [ {"context": "x", "qas": [ {"question": "q"} ] } ] } ');
    const r = await runCli(['eval', '--retriever', 'bm25', '--dataset', bad]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(new RegExp(`^corom eval: ${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:1:\\d+: invalid JSON`));
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('a missing model folder is the engine\'s own error, not a crash', async () => {
    const r = await runCli(['eval', '--retriever', 'dense', '--dataset', tiny, '--model', join(dir, 'no-model'), '--no-cache']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/no-model: model folder not found/);
  });
});
