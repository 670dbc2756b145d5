/**
 * The Embedder over an onnxruntime InferenceSession. onnxruntime-node and onnxruntime-web share
 * the onnxruntime-common API, so one class serves both; the backends only differ in how the
 * session is created (./ort-node.ts, ./ort-web.ts).
 */
import type { InferenceSession } from 'onnxruntime-common';
import type { Embedder, ModelInfo } from '../engine/types.js';
import { DEFAULT_BUCKET_LIMITS, type BucketLimits } from './length-buckets.js';
import { runBucketed, type TensorConstructor } from './ort-bucketed-run.js';

export const OUTPUT_EMBEDDING = 'sentence_embedding';

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
    await runBucketed(this.session, this.TensorClass, this.limits, inputs, undefined, OUTPUT_EMBEDDING, (data, H, row, index) => {
      out[index] = data.slice(row * H, (row + 1) * H);
    });
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.session.release();
  }
}
