/**
 * A differently shaped ranker than the fixture (hidden 48, 3 layers, 6 heads, 40 positions, tanh
 * GELU, safetensors, unprefixed encoder keys, BertForSequenceClassification with num_labels 1)
 * converts and runs on both backends and through `corom rank`, checked against the plain-loop
 * reference forward pass extended with token types, pooler and classifier. The reference itself is
 * first checked against the tiny-ranker fixture's independent numbers.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readCheckpoint, type Checkpoint } from '../../src/checkpoint/read.js';
import { loadRanker } from '../../src/engine/load.js';
import { sigmoid } from '../../src/engine/ranker.js';
import type { Dtype } from '../../src/engine/types.js';
import { ModelFileError } from '../../src/errors.js';
import { convertCheckpoint } from '../../src/store/convert.js';
import { writeRandomBert } from '../../scripts/lib/random-bert.js';
import { runCli } from '../helpers/cli.js';
import { cosine, FIXTURE_DIR } from '../helpers/fixture.js';
import { LOGIT_ABS_TOL, RANKER_CASES, RANKER_DIR, RANK_SCORE_ABS_TOL } from '../helpers/ranker-fixture.js';
import { referenceRankingLogit } from '../helpers/reference-bert.js';

const SHAPE = { vocabSize: 21128, hiddenSize: 48, numLayers: 3, numHeads: 6, intermediateSize: 80, maxPositions: 40, typeVocabSize: 2, hiddenAct: 'gelu_new' };
const QUERY = '功和功率的区别';
const PASSAGES = ['功反映做功多少，功率反映做功快慢。', 'BERT 模型 converts 任何 shape!', '', '这是一个很长的句子，'.repeat(10), '短'];

describe('the plain-loop reference', () => {
  it('reproduces the tiny-ranker fixture logits (so it can judge other shapes)', async () => {
    const { config, weights, head } = await readCheckpoint(RANKER_DIR, 'rerank');
    for (const c of RANKER_CASES.slice(0, 2)) {
      c.input_ids.forEach((ids, i) => {
        expect(Math.abs(referenceRankingLogit(config, weights, head!, ids, c.token_type_ids[i]!) - c.logits[i]!)).toBeLessThan(LOGIT_ABS_TOL);
      });
    }
  });
});

describe('a differently shaped ranker', () => {
  let src: string;
  let out: string;
  let checkpoint: Checkpoint;
  beforeAll(async () => {
    src = await mkdtemp(join(tmpdir(), 'corom-ranker-shape-'));
    await writeRandomBert(src, SHAPE, { vocabFile: join(FIXTURE_DIR, 'vocab.txt'), std: 0.3, prefix: '', seed: 11, ranking: {} });
    checkpoint = await readCheckpoint(src, 'rerank');
    out = await mkdtemp(join(tmpdir(), 'corom-ranker-shape-out-'));
    for (const dtype of ['fp32', 'int8', 'q4'] as const) await convertCheckpoint(src, out, { dtype });
  });

  const reference = (pairs: { ids: Int32Array; typeIds: Int32Array }[]): number[] =>
    pairs.map((p) => referenceRankingLogit(checkpoint.config, checkpoint.weights, checkpoint.head!, Array.from(p.ids), Array.from(p.typeIds)));

  for (const backend of ['node', 'wasm'] as const) {
    it(`converts and matches the reference forward pass (${backend})`, async () => {
      const ranker = await loadRanker({ model: out, backend, threads: 1 });
      try {
        expect(ranker.info).toMatchObject({ kind: 'rerank', hidden: 48, maxLength: 40 });
        const pairs = ranker.tokenizePairs(QUERY, PASSAGES);
        expect(pairs[3]!.ids.length).toBe(40); // truncated longest-first to the model's 40 positions
        const q = ranker.tokenizer.encode(QUERY);
        expect(Array.from(pairs[3]!.ids.subarray(0, q.length))).toEqual(Array.from(q)); // the short query stays whole
        expect(pairs[3]!.typeIds.indexOf(1)).toBe(q.length);
        const ref = reference(pairs);
        const { logits, scores } = await ranker.rank(QUERY, PASSAGES);
        logits.forEach((l, i) => expect(Math.abs(l - ref[i]!)).toBeLessThan(LOGIT_ABS_TOL));
        scores.forEach((s, i) => expect(Math.abs(s - sigmoid(ref[i]!))).toBeLessThan(RANK_SCORE_ABS_TOL));
        const figures: string[] = [];
        for (const dtype of ['int8', 'q4'] as Dtype[]) {
          const quantized = await loadRanker({ model: out, backend, dtype, threads: 1 });
          try {
            const ql = Array.from(await quantized.scorePairs(pairs));
            figures.push(`${dtype}: max |logit diff| ${Math.max(...ql.map((l, i) => Math.abs(l - ref[i]!))).toFixed(4)}, cosine ${cosine(ql, ref).toFixed(5)}`);
            expect(cosine(ql, ref)).toBeGreaterThan(dtype === 'int8' ? 0.99 : 0.9);
          } finally {
            await quantized.close();
          }
        }
        console.log(`[${backend}] hidden-48 ranker ${figures.join('; ')}`);
      } finally {
        await ranker.close();
      }
    });
  }

  it('corom rank on the raw checkpoint folder gives the reference scores', async () => {
    const r = await runCli(['rank', '--model', src, '--logits'], JSON.stringify({ source_sentence: [QUERY], sentences_to_compare: PASSAGES }));
    expect(r.code, r.stderr).toBe(0);
    const got = JSON.parse(r.stdout) as { scores: number[]; logits: number[] };
    const ranker = await loadRanker({ model: out, threads: 1 });
    const ref = reference(ranker.tokenizePairs(QUERY, PASSAGES));
    await ranker.close();
    got.scores.forEach((s, i) => expect(Math.abs(s - sigmoid(ref[i]!))).toBeLessThan(RANK_SCORE_ABS_TOL));
  });

  it('a ranking checkpoint without its classifier is refused, naming the tensor', async () => {
    const broken = await mkdtemp(join(tmpdir(), 'corom-ranker-broken-'));
    await writeRandomBert(broken, SHAPE, { vocabFile: join(FIXTURE_DIR, 'vocab.txt'), prefix: 'bert.', ranking: { architecture: 'BertForTextRanking', classifier: false } });
    const target = await mkdtemp(join(tmpdir(), 'corom-ranker-broken-out-'));
    await expect(convertCheckpoint(broken, target)).rejects.toThrow(ModelFileError);
    await expect(convertCheckpoint(broken, target)).rejects.toThrow(/missing tensor classifier\.weight/);
    const r = await runCli(['rank', '--model', broken], JSON.stringify({ source_sentence: ['q'], sentences_to_compare: ['p'] }));
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/classifier\.weight/);
    // One notice that the raw checkpoint is being converted, then the one-line error; no stack.
    const lines = r.stderr.trim().split('\n');
    expect(lines.filter((l) => !l.startsWith('converting '))).toHaveLength(1);
    expect(lines.at(-1)).toMatch(/^corom.*missing tensor classifier\.weight \(a text-ranking model needs its classifier/);
  });
});
