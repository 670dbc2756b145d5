/**
 * Proof that nothing is hard-wired to coROM-base or the fixture: a differently shaped BERT (other
 * hidden size, layers, heads, intermediate size, fewer positions, tanh GELU, safetensors without
 * the `bert.` prefix) converts and runs on both backends, checked against a plain-loop reference
 * forward pass, with CLS and mean pooling.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readCheckpoint, type Checkpoint } from '../../src/checkpoint/read.js';
import { loadEngine } from '../../src/engine/load.js';
import { convertCheckpoint } from '../../src/store/convert.js';
import { writeRandomBert } from '../../scripts/lib/random-bert.js';
import { FIXTURE_DIR } from '../helpers/fixture.js';
import { referenceEmbedding } from '../helpers/reference-bert.js';

const SHAPE = { vocabSize: 21128, hiddenSize: 48, numLayers: 3, numHeads: 6, intermediateSize: 80, maxPositions: 40, typeVocabSize: 3, hiddenAct: 'gelu_new' };
const TEXTS = ['功和功率的区别', 'BERT 模型 converts 任何 shape!', '短', '这是一个很长的句子，'.repeat(10)];

describe('a differently shaped checkpoint', () => {
  let src: string;
  let checkpoint: Checkpoint;
  beforeAll(async () => {
    src = await mkdtemp(join(tmpdir(), 'corom-shape-'));
    await writeRandomBert(src, SHAPE, { vocabFile: join(FIXTURE_DIR, 'vocab.txt'), std: 0.3, prefix: '', seed: 7, extraTensors: true });
    checkpoint = await readCheckpoint(src);
  });

  it('reads the config and every tensor from safetensors without a prefix, ignoring the pooler', () => {
    expect(checkpoint.config).toMatchObject({ hiddenSize: 48, numLayers: 3, numHeads: 6, intermediateSize: 80, maxPositions: 40, typeVocabSize: 3, hiddenAct: 'gelu_tanh' });
    expect(checkpoint.weights.layers).toHaveLength(3);
  });

  for (const pooling of ['cls', 'mean'] as const) {
    for (const backend of ['node', 'wasm'] as const) {
      it(`converts and matches the reference forward pass (${pooling} pooling, ${backend})`, async () => {
        const out = await mkdtemp(join(tmpdir(), `corom-shape-${pooling}-`));
        await convertCheckpoint(src, out, { dtype: 'fp32', pooling });
        const engine = await loadEngine({ model: out, backend, threads: 1 });
        try {
          expect(engine.info).toMatchObject({ dimensions: 48, maxLength: 40, pooling });
          const ids = engine.tokenize(TEXTS);
          expect(ids[3]!.length).toBe(40); // truncated to the model's 40 positions
          const vectors = await engine.embedTokens(ids);
          vectors.forEach((v, i) => {
            const ref = referenceEmbedding(checkpoint.config, checkpoint.weights, Array.from(ids[i]!), pooling);
            let worst = 0;
            for (let c = 0; c < ref.length; c++) worst = Math.max(worst, Math.abs(v[c]! - ref[c]!));
            expect(worst).toBeLessThan(1e-3);
          });
        } finally {
          await engine.close();
        }
      });
    }
  }
});
