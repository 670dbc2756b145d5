/**
 * The ranker against the tiny-ranker fixture's reference outputs (an independent implementation):
 * exact ids and type ids, logits within 1e-4 and scores within 1e-5, on both backends; int8 and
 * q4 logits reported against the reference.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { loadEngine, loadRanker } from '../../src/engine/load.js';
import type { Ranker } from '../../src/engine/ranker.js';
import type { BackendName } from '../../src/engine/types.js';
import { ModelKindError } from '../../src/errors.js';
import { LOGIT_ABS_TOL, RANKER_CASES, RANK_SCORE_ABS_TOL, convertedRanker } from '../helpers/ranker-fixture.js';
import { cosine } from '../helpers/fixture.js';

describe.each<BackendName>(['node', 'wasm'])('tiny-ranker parity on the %s backend', (backend) => {
  const rankers: Partial<Record<'fp32' | 'int8' | 'q4', Ranker>> = {};

  beforeAll(async () => {
    const dir = await convertedRanker('fp32', 'int8', 'q4');
    for (const dtype of ['fp32', 'int8', 'q4'] as const) rankers[dtype] = await loadRanker({ model: dir, dtype, backend, threads: 1 });
  });
  afterAll(async () => {
    for (const r of Object.values(rankers)) await r?.close();
  });

  it('records the kind in corom.json and reports the model it serves', async () => {
    const dir = await convertedRanker('fp32');
    const meta = JSON.parse(await readFile(join(dir, 'corom.json'), 'utf8'));
    expect(meta).toMatchObject({ task: 'rerank', hidden: 32, layers: 2, heads: 4, maxLength: 128 });
    expect(Object.keys(meta.dtypes).sort()).toEqual(['fp32', 'int8', 'q4']);
    expect(rankers.fp32!.info).toMatchObject({ kind: 'rerank', hidden: 32, maxLength: 128, dtype: 'fp32', vocabSize: 21128 });
    expect(rankers.fp32!.info.backend).toBe(backend === 'node' ? 'onnxruntime-node/cpu' : 'onnxruntime-web/wasm');
  });

  for (const c of RANKER_CASES) {
    it(`${c.name}: ids, type ids, logits and scores equal the reference`, async () => {
      const ranker = rankers.fp32!;
      const pairs = ranker.tokenizePairs(c.source_sentence[0]!, c.sentences_to_compare);
      expect(pairs.map((p) => Array.from(p.ids))).toEqual(c.input_ids);
      expect(pairs.map((p) => Array.from(p.typeIds))).toEqual(c.token_type_ids);
      const out = await ranker.pipeline({ source_sentence: c.source_sentence, sentences_to_compare: c.sentences_to_compare });
      expect(out.logits).toHaveLength(c.logits.length);
      out.logits.forEach((l, i) => expect(Math.abs(l - c.logits[i]!)).toBeLessThan(LOGIT_ABS_TOL));
      out.scores.forEach((s, i) => expect(Math.abs(s - c.scores[i]!)).toBeLessThan(RANK_SCORE_ABS_TOL));
    });
  }

  it('one call with every pair, split into several small length buckets, gives each pair its own logit', async () => {
    const dir = await convertedRanker('fp32');
    const ranker = await loadRanker({ model: dir, backend, threads: 1, limits: { maxBatchTokens: 300, maxBatchSize: 4 } });
    onTestFinished(() => ranker.close());
    const pairs = RANKER_CASES.flatMap((c) => ranker.tokenizePairs(c.source_sentence[0]!, c.sentences_to_compare));
    const expected = RANKER_CASES.flatMap((c) => c.logits);
    const logits = await ranker.scorePairs(pairs);
    expect(logits).toHaveLength(expected.length);
    logits.forEach((l, i) => expect(Math.abs(l - expected[i]!)).toBeLessThan(LOGIT_ABS_TOL));
  });

  it('int8 and q4 logits stay close to the reference (figures printed)', async () => {
    const expected = RANKER_CASES.flatMap((c) => c.logits);
    const figures: string[] = [];
    for (const dtype of ['int8', 'q4'] as const) {
      const ranker = rankers[dtype]!;
      const logits = Array.from(await ranker.scorePairs(RANKER_CASES.flatMap((c) => ranker.tokenizePairs(c.source_sentence[0]!, c.sentences_to_compare))));
      const worst = Math.max(...logits.map((l, i) => Math.abs(l - expected[i]!)));
      const spread = Math.max(...expected) - Math.min(...expected);
      const cos = cosine(logits, expected);
      figures.push(`${dtype}: max |logit diff| ${worst.toFixed(4)} (logit range ${spread.toFixed(3)}), cosine of the logit vector ${cos.toFixed(5)}`);
      expect(cos).toBeGreaterThan(dtype === 'int8' ? 0.99 : 0.95);
    }
    console.log(`[${backend}] tiny-ranker ${figures.join('; ')}`);
  });

  it('an embedding call on a ranker and a ranking call on an embedder name the kind', async () => {
    const dir = await convertedRanker('fp32');
    await expect(loadEngine({ model: dir, backend })).rejects.toThrow(ModelKindError);
    await expect(loadEngine({ model: dir, backend })).rejects.toThrow(/is a rerank model/);
  });
});

describe('tiny-ranker on the node backend in a worker thread (what a server uses)', () => {
  it('gives the reference logits and closes cleanly', async () => {
    const dir = await convertedRanker('fp32');
    const ranker = await loadRanker({ model: dir, threads: 1, thread: true });
    try {
      expect(ranker.info).toMatchObject({ kind: 'rerank', backend: 'onnxruntime-node/cpu' });
      const c = RANKER_CASES[4]!;
      const [a, b] = await Promise.all([ranker.pipeline(c), ranker.rank(c.source_sentence[0]!, [])]);
      a.logits.forEach((l, i) => expect(Math.abs(l - c.logits[i]!)).toBeLessThan(LOGIT_ABS_TOL));
      a.scores.forEach((s, i) => expect(Math.abs(s - c.scores[i]!)).toBeLessThan(RANK_SCORE_ABS_TOL));
      expect(b).toEqual({ scores: [], logits: [] });
    } finally {
      await ranker.close();
    }
    await expect(ranker.scorePairs(ranker.tokenizePairs('q', ['p']))).rejects.toThrow(/closed/);
  });
});
