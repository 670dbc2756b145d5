/**
 * The Embedder over an onnxruntime InferenceSession. onnxruntime-node and onnxruntime-web share
 * the onnxruntime-common API, so one class serves both; the backends only differ in how the
 * session is created (./ort-node.ts, ./ort-web.ts).
 */
import type { InferenceSession, Tensor } from 'onnxruntime-common';
import type { Embedder, ModelInfo } from '../engine/types.js';
import { DEFAULT_BUCKET_LIMITS, lengthBuckets, padBatch, type BucketLimits } from './length-buckets.js';

export const OUTPUT_EMBEDDING = 'sentence_embedding';

type TensorConstructor = new (type: 'int64', data: BigInt64Array, dims: readonly number[]) => Tensor;

export class OrtEmbedder implements Embedder {
  private closed = false;

  constructor(
    readonly info: ModelInfo,
    private readonly session: InferenceSession,
    private readonly TensorClass: TensorConstructor,
    private readonly limits: Readonly<BucketLimits> = DEFAULT_BUCKET_LIMITS,
  ) {}

  async embedTokens(inputs: readonly Int32Array[]): Promise<Float32Array[]> {
    if (this.closed) throw new Error('embedder is closed');
    const out = new Array<Float32Array>(inputs.length);
    for (const bucket of lengthBuckets(inputs.map((s) => s.length), this.limits)) {
      const batch = padBatch(bucket.map((i) => inputs[i]!));
      const dims = [batch.rows, batch.width];
      const result = await this.session.run(
        {
          input_ids: new this.TensorClass('int64', batch.ids, dims),
          attention_mask: new this.TensorClass('int64', batch.mask, dims),
          token_type_ids: new this.TensorClass('int64', batch.types, dims),
        },
        [OUTPUT_EMBEDDING],
      );
      const tensor = result[OUTPUT_EMBEDDING];
      if (!tensor) throw new Error(`model produced no ${OUTPUT_EMBEDDING} output`);
      const data = tensor.data as Float32Array;
      const H = Number(tensor.dims[1]);
      bucket.forEach((index, row) => {
        out[index] = data.slice(row * H, (row + 1) * H);
      });
      tensor.dispose?.();
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.session.release();
  }
}
