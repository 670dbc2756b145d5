/**
 * The PairScorer over an onnxruntime InferenceSession: a cross-encoder's tokenized pairs (with
 * their token type ids) in, the `logits` output ([batch]) out. Same bucketed run as the embedder.
 */
import type { InferenceSession } from 'onnxruntime-common';
import type { PairScorer, RankerInfo, TokenPair } from '../engine/types.js';
import { DEFAULT_BUCKET_LIMITS, type BucketLimits } from './length-buckets.js';
import { runBucketed, type TensorConstructor } from './ort-bucketed-run.js';

export const OUTPUT_LOGITS = 'logits';

export class OrtPairScorer implements PairScorer {
  private closed = false;

  constructor(
    readonly info: RankerInfo,
    private readonly session: InferenceSession,
    private readonly TensorClass: TensorConstructor,
    private readonly limits: BucketLimits = DEFAULT_BUCKET_LIMITS,
  ) {}

  async scoreTokens(pairs: readonly TokenPair[]): Promise<Float32Array> {
    if (this.closed) throw new Error('ranker is closed');
    const out = new Float32Array(pairs.length);
    await runBucketed(
      this.session,
      this.TensorClass,
      this.limits,
      pairs.map((p) => p.ids),
      pairs.map((p) => p.typeIds),
      OUTPUT_LOGITS,
      (data, _width, row, index) => {
        out[index] = data[row]!;
      },
    );
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.session.release();
  }
}
