/**
 * The engine against the fixture's reference outputs (an independent implementation): exact
 * input ids, fp32 vectors within 1e-4 and scores within 1e-3 relative, on both backends.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/engine.js';
import { loadEngine } from '../../src/engine/load.js';
import type { BackendName } from '../../src/engine/types.js';
import { EMBEDDING_ABS_TOL, EXPECTED, SCORE_REL_TOL, convertedFixture, cosine, maxAbsDiff } from '../helpers/fixture.js';

describe.each<BackendName>(['node', 'wasm'])('fixture parity on the %s backend', (backend) => {
  const engines: Partial<Record<'fp32' | 'int8' | 'q4', Engine>> = {};

  beforeAll(async () => {
    const dir = await convertedFixture('fp32', 'int8', 'q4');
    for (const dtype of ['fp32', 'int8', 'q4'] as const) engines[dtype] = await loadEngine({ model: dir, dtype, backend, threads: 1 });
  });
  afterAll(async () => {
    for (const e of Object.values(engines)) await e?.close();
  });

  it('reports the model it serves', () => {
    const info = engines.fp32!.info;
    expect(info).toMatchObject({ dimensions: 32, maxLength: 128, pooling: 'cls', dtype: 'fp32', vocabSize: 21128 });
    expect(info.backend).toBe(backend === 'node' ? 'onnxruntime-node/cpu' : 'onnxruntime-web/wasm');
  });

  for (const c of EXPECTED) {
    it(`${c.name}: input ids, fp32 vectors and scores equal the reference`, async () => {
      const engine = engines.fp32!;
      const texts = [...c.source_sentence, ...c.sentences_to_compare];
      expect(engine.tokenize(texts).map((ids) => Array.from(ids))).toEqual(c.input_ids);
      const out = await engine.pipeline({ source_sentence: c.source_sentence, sentences_to_compare: c.sentences_to_compare });
      expect(out.text_embedding).toHaveLength(c.text_embedding.length);
      out.text_embedding.forEach((v, i) => expect(maxAbsDiff(v, c.text_embedding[i]!)).toBeLessThan(EMBEDDING_ABS_TOL));
      expect(out.scores).toHaveLength(c.scores.length);
      out.scores.forEach((s, i) => expect(Math.abs(s - c.scores[i]!) / Math.abs(c.scores[i]!)).toBeLessThan(SCORE_REL_TOL));
    });
  }

  it('int8 keeps cosine >= 0.99 to the fp32 reference for every fixture vector; q4 is reported', async () => {
    const figures: Record<string, number> = {};
    for (const dtype of ['int8', 'q4'] as const) {
      let worst = 1;
      for (const c of EXPECTED) {
        const vectors = await engines[dtype]!.embed([...c.source_sentence, ...c.sentences_to_compare]);
        vectors.forEach((v, i) => (worst = Math.min(worst, cosine(v, c.text_embedding[i]!))));
      }
      figures[dtype] = worst;
    }
    console.log(`[${backend}] minimum cosine to fp32 reference: int8 ${figures.int8!.toFixed(5)}, q4 ${figures.q4!.toFixed(5)}`);
    expect(figures.int8).toBeGreaterThanOrEqual(0.99);
    expect(figures.q4).toBeGreaterThanOrEqual(0.95);
  });

  it('a mixed batch gives each text the vector it gets alone (padding and bucketing are invisible)', async () => {
    const texts = EXPECTED.flatMap((c) => [...c.source_sentence, ...c.sentences_to_compare]);
    const together = await engines.fp32!.embed(texts);
    for (const i of [0, 3, texts.length - 1]) {
      const [alone] = await engines.fp32!.embed([texts[i]!]);
      expect(maxAbsDiff(together[i]!, alone!)).toBeLessThan(1e-5);
    }
  });
});
