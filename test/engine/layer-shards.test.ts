/**
 * Layer shards (corom convert --shards N): split points and metadata, and chained shards compute
 * what the unsplit int8 model computes, because every shard carries the same quantized weights.
 */
import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ortNode from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { writeRandomBert } from '../../scripts/lib/random-bert.js';
import { loadEngine } from '../../src/engine/load.js';
import { SHARD_INPUT_HIDDEN } from '../../src/onnx/bert-graph.js';
import { convertCheckpoint } from '../../src/store/convert.js';
import type { ConvertedMetadata } from '../../src/store/metadata.js';
import { evenLayerRanges, layerRangesAt, shardFileName, type ShardSet } from '../../src/store/shard-metadata.js';
import { convertShards } from '../../src/store/shards.js';
import { padBatch } from '../../src/runtime/length-buckets.js';
import { runShard, ShardChainEmbedder, ShardInputError } from '../../src/runtime/shard-runner.js';
import { loadTokenizer } from '../../src/tokenizer/load.js';
import { cosine, FIXTURE_DIR, maxAbsDiff } from '../helpers/fixture.js';

const TEXTS = ['今天天气怎么样', '北京是中国的首都', '一个很长的句子，'.repeat(12), 'hello world', '测'];

describe('split points', () => {
  it('splits layers evenly, larger shards first', () => {
    expect(evenLayerRanges(12, 2)).toEqual([[0, 6], [6, 12]]);
    expect(evenLayerRanges(12, 1)).toEqual([[0, 12]]);
    expect(evenLayerRanges(5, 3)).toEqual([[0, 2], [2, 4], [4, 5]]);
    expect(evenLayerRanges(2, 2)).toEqual([[0, 1], [1, 2]]);
  });
  it('takes explicit split points', () => {
    expect(layerRangesAt(12, [4, 8])).toEqual([[0, 4], [4, 8], [8, 12]]);
    expect(layerRangesAt(12, [])).toEqual([[0, 12]]);
  });
  it('rejects impossible splits with a message', () => {
    expect(() => evenLayerRanges(2, 0)).toThrow(/positive integer/);
    expect(() => evenLayerRanges(2, 3)).toThrow(/cannot split 2 layers into 3 shards/);
    expect(() => layerRangesAt(12, [6, 6])).toThrow(/increasing/);
    expect(() => layerRangesAt(12, [12])).toThrow(/strictly between 0 and 12/);
  });
});

async function nodeSessions(dir: string, set: ShardSet): Promise<ortNode.InferenceSession[]> {
  return Promise.all(set.shards.map((s) => ortNode.InferenceSession.create(join(dir, s.file), { intraOpNumThreads: 1 })));
}

/**
 * Chained shards on onnxruntime-node against the unsplit int8 engine (what `corom serve --dtype
 * int8` runs) on the same texts. Dynamic int8 quantization scales activations per run, so a
 * vector depends on the rows it was batched with: both sides batch alike (all texts in one run
 * with the default limits; one text per run with a cap of 1 row against the engine per text).
 */
async function compareChainToUnsplit(src: string, shards: { shards?: number; splits?: number[] }): Promise<{ minCos: number; maxAbs: number; set: ShardSet; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'corom-shards-'));
  await convertCheckpoint(src, dir, { dtype: 'int8' });
  const { set } = await convertShards(src, dir, { dtype: 'int8', ...shards });
  const engine = await loadEngine({ model: dir, dtype: 'int8', backend: 'node', threads: 1 });
  const tok = await loadTokenizer(dir);
  const ids = TEXTS.map((t) => tok.encode(t, 128));
  const together = new ShardChainEmbedder(engine.info, await nodeSessions(dir, set), set, ortNode.Tensor as never);
  const oneByOne = new ShardChainEmbedder(engine.info, await nodeSessions(dir, set), set, ortNode.Tensor as never, { maxBatchSize: 1, maxBatchTokens: 128 });
  try {
    const pairs: [Float32Array, Float32Array][] = [];
    const expected = await engine.embedder.embedTokens(ids);
    (await together.embedTokens(ids)).forEach((v, i) => pairs.push([v, expected[i]!]));
    const single = await oneByOne.embedTokens(ids);
    for (const [i, one] of ids.entries()) pairs.push([single[i]!, (await engine.embedder.embedTokens([one]))[0]!]);
    return { minCos: Math.min(...pairs.map(([a, b]) => cosine(a, b))), maxAbs: Math.max(...pairs.map(([a, b]) => maxAbsDiff(a, b))), set, dir };
  } finally {
    await together.close();
    await oneByOne.close();
    await engine.close();
  }
}

describe('corom convert --shards', () => {
  it('describes every shard in corom.json and keeps the unsplit artifact', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'corom-shards-meta-'));
    await convertCheckpoint(FIXTURE_DIR, dir, { dtype: 'int8' });
    const { set } = await convertShards(FIXTURE_DIR, dir, { dtype: 'int8', shards: 2 });
    const meta = JSON.parse(await readFile(join(dir, 'corom.json'), 'utf8')) as ConvertedMetadata;
    expect(meta.dtypes.int8?.file).toBe('model.int8.onnx');
    expect(meta.shards?.int8).toEqual(set);
    expect(set.count).toBe(2);
    expect(set.shards.map((s) => s.layers)).toEqual([[0, 1], [1, 2]]);
    expect(set.shards.map((s) => s.file)).toEqual([shardFileName('int8', 0, 2), shardFileName('int8', 1, 2)]);
    expect(await readdir(dir)).toEqual(expect.arrayContaining(['model.int8.shard1of2.onnx', 'model.int8.shard2of2.onnx', 'vocab.txt']));
    // The recorded interface is the graphs' actual interface.
    for (const s of set.shards) {
      const session = await ortNode.InferenceSession.create(join(dir, s.file));
      expect(session.inputNames).toEqual(s.inputs.map((i) => i.name));
      expect(session.outputNames).toEqual(s.outputs.map((o) => o.name));
      expect(s.bytes).toBe((await readFile(join(dir, s.file))).byteLength);
      await session.release();
    }
    expect(set.shards[1]!.inputs[0]).toEqual({ name: SHARD_INPUT_HIDDEN, type: 'float32', shape: ['batch', 'sequence', meta.hidden] });
    // A plain re-conversion of another dtype keeps the shard set.
    await convertCheckpoint(FIXTURE_DIR, dir, { dtype: 'fp32' });
    const after = JSON.parse(await readFile(join(dir, 'corom.json'), 'utf8')) as ConvertedMetadata;
    expect(after.shards?.int8).toEqual(set);
  });

  it('chained int8 shards reproduce the unsplit int8 model on the tiny fixture', async () => {
    const { minCos, maxAbs } = await compareChainToUnsplit(FIXTURE_DIR, { shards: 2 });
    console.log(`tiny fixture, 2 shards vs unsplit int8: min cosine ${minCos.toFixed(7)}, max abs diff ${maxAbs.toExponential(2)}`);
    expect(minCos).toBeGreaterThanOrEqual(0.9999);
    expect(maxAbs).toBeLessThan(1e-4);
  });

  it('chained int8 shards reproduce the unsplit int8 model on a small random model split unevenly in 3', async () => {
    const src = await mkdtemp(join(tmpdir(), 'corom-shards-random-'));
    await writeRandomBert(src, { vocabSize: 21128, hiddenSize: 48, numLayers: 5, numHeads: 4, intermediateSize: 96, maxPositions: 160 }, { vocabFile: join(FIXTURE_DIR, 'vocab.txt'), std: 0.3, seed: 11 });
    const { minCos, maxAbs, set } = await compareChainToUnsplit(src, { splits: [1, 3] });
    expect(set.shards.map((s) => s.layers)).toEqual([[0, 1], [1, 3], [3, 5]]);
    console.log(`random 5-layer model, 3 shards vs unsplit int8: min cosine ${minCos.toFixed(7)}, max abs diff ${maxAbs.toExponential(2)}`);
    expect(minCos).toBeGreaterThanOrEqual(0.9999);
    expect(maxAbs).toBeLessThan(1e-4);
  });

  it('a shard refuses the wrong kind of input', async () => {
    const { set, dir } = await compareChainToUnsplit(FIXTURE_DIR, { shards: 2 });
    const [first, second] = await nodeSessions(dir, set);
    const tokens = padBatch([Int32Array.of(101, 102)]);
    await expect(runShard(second!, set.shards[1]!, ortNode.Tensor as never, { tokens })).rejects.toThrow(ShardInputError);
    const out = await runShard(first!, set.shards[0]!, ortNode.Tensor as never, { tokens });
    if (!('hiddenState' in out)) throw new Error('shard 1 of 2 returned embeddings');
    await expect(runShard(first!, set.shards[0]!, ortNode.Tensor as never, out)).rejects.toThrow(/takes token ids/);
    {
      const bad = { hiddenState: { ...out.hiddenState, state: out.hiddenState.state.subarray(1) } };
      await expect(runShard(second!, set.shards[1]!, ortNode.Tensor as never, bad)).rejects.toThrow(/do not match/);
    }
    await first!.release();
    await second!.release();
  });
});
