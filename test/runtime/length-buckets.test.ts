/**
 * Length buckets (src/runtime/length-buckets.ts): sub-batches bounded by padded tokens and rows,
 * every input exactly once, and -- through OrtEmbedder over a tiny real ONNX graph that sums each
 * row's ids -- every output back at its input's position.
 */
import fc from 'fast-check';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import type { ModelInfo } from '../../src/engine/types.js';
import { GraphBuilder, TensorType } from '../../src/onnx/graph-builder.js';
import { DEFAULT_BUCKET_LIMITS, lengthBuckets, padBatch, type BucketLimits } from '../../src/runtime/length-buckets.js';
import { OUTPUT_EMBEDDING, OrtEmbedder } from '../../src/runtime/ort-embedder.js';

/** The limits a bucket must keep: a bucket over them is allowed only as a lone over-long row. */
function expectWithinLimits(buckets: number[][], lengths: readonly number[], limits: BucketLimits): void {
  for (const bucket of buckets) {
    expect(bucket.length).toBeGreaterThan(0);
    const padded = bucket.length * Math.max(...bucket.map((i) => lengths[i]!));
    if (bucket.length > 1) {
      expect(bucket.length).toBeLessThanOrEqual(limits.maxBatchSize);
      expect(padded).toBeLessThanOrEqual(limits.maxBatchTokens);
    }
  }
}

describe('lengthBuckets', () => {
  it('no input, no buckets', () => {
    expect(lengthBuckets([])).toEqual([]);
    expect(lengthBuckets([], { maxBatchTokens: 1, maxBatchSize: 1 })).toEqual([]);
  });

  it('sorts by length (ties by position) and cuts when rows x longest would pass the token bound', () => {
    // sorted: 1(2) 3(2) 0(3) 4(5) 2(9); 3 rows x 3 = 9 <= 10, a 4th row x 5 = 20 > 10
    expect(lengthBuckets([3, 2, 9, 2, 5], { maxBatchTokens: 10, maxBatchSize: 100 })).toEqual([[1, 3, 0], [4], [2]]);
  });

  it('cuts at the row bound even when tokens would allow more', () => {
    expect(lengthBuckets([1, 1, 1, 1, 1, 1, 1], { maxBatchTokens: 1000, maxBatchSize: 3 })).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
  });

  it('a single sequence longer than the token bound runs alone instead of being dropped or looping', () => {
    const lengths = [4, 500, 3, 600];
    const buckets = lengthBuckets(lengths, { maxBatchTokens: 64, maxBatchSize: 8 });
    expect(buckets).toEqual([[2, 0], [1], [3]]);
  });

  it('the defaults: 256 short rows make one bucket; 16384 padded tokens bound long ones', () => {
    expect(DEFAULT_BUCKET_LIMITS).toEqual({ maxBatchTokens: 16384, maxBatchSize: 256 });
    expect(lengthBuckets(new Array(256).fill(15))).toHaveLength(1);
    expect(lengthBuckets(new Array(257).fill(15)).map((b) => b.length)).toEqual([256, 1]);
    expect(lengthBuckets(new Array(200).fill(128)).map((b) => b.length)).toEqual([128, 72]);
  });

  it('property: every index exactly once, buckets within both bounds, ascending lengths, no needless cut', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 300 }), { maxLength: 120 }),
        fc.integer({ min: 1, max: 2000 }),
        fc.integer({ min: 1, max: 40 }),
        (lengths, maxBatchTokens, maxBatchSize) => {
          const limits = { maxBatchTokens, maxBatchSize };
          const buckets = lengthBuckets(lengths, limits);
          expect(buckets.flat().sort((a, b) => a - b)).toEqual(lengths.map((_, i) => i));
          expectWithinLimits(buckets, lengths, limits);
          const flat = buckets.flat().map((i) => lengths[i]!);
          expect(flat).toEqual([...flat].sort((a, b) => a - b));
          // greedy: the first row of the next bucket could not have joined this one
          for (let b = 0; b + 1 < buckets.length; b++) {
            const rows = buckets[b]!.length + 1;
            const next = lengths[buckets[b + 1]![0]!]!;
            expect(rows > maxBatchSize || rows * next > maxBatchTokens).toBe(true);
          }
        },
      ),
      { numRuns: 300, seed: 13 },
    );
  });
});

describe('padBatch', () => {
  it('pads to the longest row with zeros, masks real tokens, zero token types', () => {
    const b = padBatch([Int32Array.of(101, 7, 102), Int32Array.of(101, 102)]);
    expect({ rows: b.rows, width: b.width }).toEqual({ rows: 2, width: 3 });
    expect(Array.from(b.ids)).toEqual([101n, 7n, 102n, 101n, 102n, 0n]);
    expect(Array.from(b.mask)).toEqual([1n, 1n, 1n, 1n, 1n, 0n]);
    expect(Array.from(b.types)).toEqual([0n, 0n, 0n, 0n, 0n, 0n]);
  });

  it('an empty batch is 0 x 0', () => {
    expect(padBatch([])).toMatchObject({ rows: 0, width: 0 });
  });
});

describe('OrtEmbedder puts every output back at its input position', () => {
  /** sentence_embedding[r] = [sum of ids + types, number of real tokens]: a row's fingerprint. */
  async function fingerprintSession(): Promise<ort.InferenceSession> {
    const g = new GraphBuilder();
    const ids = g.input('input_ids', TensorType.INT64, ['batch', 'sequence']);
    const mask = g.input('attention_mask', TensorType.INT64, ['batch', 'sequence']);
    const types = g.input('token_type_ids', TensorType.INT64, ['batch', 'sequence']);
    const axis = g.int64s('axis', [1]);
    const [withTypes] = g.node('Add', [ids, types], 'ids_plus_types');
    const [idsF] = g.node('Cast', [withTypes!], 'ids_float', { to: TensorType.FLOAT });
    const [maskF] = g.node('Cast', [mask], 'mask_float', { to: TensorType.FLOAT });
    const [idSum] = g.node('ReduceSum', [idsF!, axis], 'id_sum', { keepdims: 1 });
    const [count] = g.node('ReduceSum', [maskF!, axis], 'count', { keepdims: 1 });
    const [out] = g.node('Concat', [idSum!, count!], 'concat', { axis: 1 });
    g.rename(out!, OUTPUT_EMBEDDING);
    g.output(OUTPUT_EMBEDDING, TensorType.FLOAT, ['batch', 2]);
    return ort.InferenceSession.create(g.serialize({}), { intraOpNumThreads: 1, interOpNumThreads: 1 });
  }

  const info: ModelInfo = { id: 'fingerprint', dimensions: 2, maxLength: 64, pooling: 'cls', dtype: 'fp32', backend: 'onnxruntime-node/cpu', vocabSize: 1000 };

  it('across several buckets, each within its limits, padded only to its own longest row', async () => {
    const session = await fingerprintSession();
    const runs: number[][] = [];
    // The real session, with each run's input shape noted on the way through.
    const recording = {
      run: (feeds: Record<string, ort.Tensor>, outputs: string[]) => {
        runs.push([...feeds.input_ids!.dims]);
        return session.run(feeds, outputs);
      },
      release: () => session.release(),
    } as unknown as ort.InferenceSession;
    const limits = { maxBatchTokens: 12, maxBatchSize: 3 };
    const embedder = new OrtEmbedder(info, recording, ort.Tensor, limits);
    const lengths = [9, 2, 5, 2, 3, 20, 4, 2, 6, 3];
    const inputs = lengths.map((n, r) => Int32Array.from({ length: n }, (_, j) => 101 + r * 10 + j));
    const vectors = await embedder.embedTokens(inputs);
    expect(vectors).toHaveLength(inputs.length);
    vectors.forEach((v, r) => {
      const ids = inputs[r]!;
      expect(Array.from(v), `row ${r}`).toEqual([ids.reduce((a, b) => a + b, 0), ids.length]);
    });
    expect(runs).toHaveLength(lengthBuckets(lengths, limits).length);
    expect(runs.length).toBeGreaterThan(3);
    for (const [rows, width] of runs) {
      if (rows! > 1) expect(rows! * width!).toBeLessThanOrEqual(12);
      expect(rows).toBeLessThanOrEqual(3);
    }
    // the 20-token row ran alone at its own width; nothing else was padded to it
    expect(runs.filter(([, width]) => width === 20)).toEqual([[1, 20]]);
    await embedder.close();
    await expect(embedder.embedTokens(inputs)).rejects.toThrow('embedder is closed');
  });

  it('no inputs: no run, no outputs', async () => {
    const session = await fingerprintSession();
    const embedder = new OrtEmbedder(info, session, ort.Tensor);
    expect(await embedder.embedTokens([])).toEqual([]);
    await embedder.close();
  });
});
