/** corom tokenize / embed / pipeline / convert against the fixture's reference outputs. */
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { EMBEDDING_ABS_TOL, EXPECTED, FIXTURE_DIR, SCORE_REL_TOL, convertedFixture, maxAbsDiff } from '../helpers/fixture.js';

const ALL_TEXTS = EXPECTED.flatMap((c) => [...c.source_sentence, ...c.sentences_to_compare]);
const ALL_IDS = EXPECTED.flatMap((c) => c.input_ids);
const ALL_VECTORS = EXPECTED.flatMap((c) => c.text_embedding);
const jsonl = (items: unknown[]): string => items.map((t) => JSON.stringify(t)).join('\n') + '\n';

describe('corom CLI on the fixture', () => {
  let converted: string;
  beforeAll(async () => {
    converted = await convertedFixture('fp32');
  });

  it('tokenize: input ids equal the reference exactly', async () => {
    const r = await runCli(['tokenize', '--model', FIXTURE_DIR], jsonl(ALL_TEXTS));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n').map((l) => JSON.parse(l))).toEqual(ALL_IDS);
  });

  for (const backend of ['node', 'wasm']) {
    it(`embed (${backend}): raw vectors in input order within 1e-4`, async () => {
      const r = await runCli(['embed', '--model', converted, '--backend', backend, '--batch', '7'], jsonl(ALL_TEXTS));
      expect(r.code, r.stderr).toBe(0);
      const vectors = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as number[]);
      expect(vectors).toHaveLength(ALL_VECTORS.length);
      vectors.forEach((v, i) => expect(maxAbsDiff(v, ALL_VECTORS[i]!)).toBeLessThan(EMBEDDING_ABS_TOL));
    });
  }

  it('embed --normalize gives unit vectors', async () => {
    const r = await runCli(['embed', '--model', converted, '--normalize'], jsonl(ALL_TEXTS.slice(0, 3)));
    for (const line of r.stdout.trim().split('\n')) {
      const v = JSON.parse(line) as number[];
      expect(Math.sqrt(v.reduce((s, x) => s + x * x, 0))).toBeCloseTo(1, 5);
    }
  });

  for (const c of EXPECTED) {
    it(`pipeline ${c.name}: {text_embedding, scores} equal the reference`, async () => {
      const input = c.sentences_to_compare.length ? { source_sentence: c.source_sentence, sentences_to_compare: c.sentences_to_compare } : { source_sentence: c.source_sentence };
      const r = await runCli(['pipeline', '--model', converted], JSON.stringify(input));
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout) as { text_embedding: number[][]; scores: number[] };
      out.text_embedding.forEach((v, i) => expect(maxAbsDiff(v, c.text_embedding[i]!)).toBeLessThan(EMBEDDING_ABS_TOL));
      out.scores.forEach((s, i) => expect(Math.abs(s - c.scores[i]!) / Math.abs(c.scores[i]!)).toBeLessThan(SCORE_REL_TOL));
    });
  }

  it('pipeline accepts a raw checkpoint folder, converting it once and caching the result', async () => {
    const src = await mkdtemp(join(tmpdir(), 'corom-raw-'));
    const { cp } = await import('node:fs/promises');
    // Only the checkpoint: a .corom cache left in the fixture by a manual run must not come along.
    await cp(FIXTURE_DIR, src, { recursive: true, filter: (path) => !path.includes('.corom') });
    const input = JSON.stringify({ source_sentence: EXPECTED[0]!.source_sentence });
    const first = await runCli(['pipeline', '--model', src], input);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain('converting');
    const second = await runCli(['pipeline', '--model', src], input);
    expect(second.stderr).not.toContain('converting');
    expect(JSON.parse(second.stdout)).toEqual(JSON.parse(first.stdout));
    expect(await readdir(join(src, '.corom'))).toContain('model.fp32.onnx');
  });

  it('convert writes every dtype asked for', async () => {
    const out = await mkdtemp(join(tmpdir(), 'corom-convert-'));
    const r = await runCli(['convert', FIXTURE_DIR, out, '--dtype', 'fp32,int8,q4']);
    expect(r.code, r.stderr).toBe(0);
    expect((await readdir(out)).sort()).toEqual(
      ['config.json', 'configuration.json', 'corom.json', 'model.fp32.onnx', 'model.int8.onnx', 'model.q4.onnx', 'vocab.txt'].sort(),
    );
  });
});
