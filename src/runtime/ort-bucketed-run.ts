/**
 * The one loop every onnxruntime model runs through (the embedder's and the ranker's): sequences
 * grouped into length buckets, each bucket padded into int64 `input_ids` / `attention_mask` /
 * `token_type_ids` tensors, run, and one output's rows handed back in input order.
 * onnxruntime-node and onnxruntime-web share the onnxruntime-common API, so this serves both.
 */
import type { InferenceSession, Tensor } from 'onnxruntime-common';
import { lengthBuckets, padBatch, type BucketLimits } from './length-buckets.js';

export type TensorConstructor = new (type: 'int64', data: BigInt64Array, dims: readonly number[]) => Tensor;

/**
 * Runs `sequences` (with their token type ids when given, else all 0) and calls `take(data,
 * rowWidth, row, index)` for every row of `output`, where `index` is the row's input position.
 */
export async function runBucketed(
  session: InferenceSession,
  TensorClass: TensorConstructor,
  limits: BucketLimits,
  sequences: readonly Int32Array[],
  typeIds: readonly Int32Array[] | undefined,
  output: string,
  take: (data: Float32Array, rowWidth: number, row: number, index: number) => void,
): Promise<void> {
  for (const bucket of lengthBuckets(sequences.map((s) => s.length), limits)) {
    const batch = padBatch(
      bucket.map((i) => sequences[i]!),
      typeIds ? bucket.map((i) => typeIds[i]!) : undefined,
    );
    const dims = [batch.rows, batch.width];
    const result = await session.run(
      {
        input_ids: new TensorClass('int64', batch.ids, dims),
        attention_mask: new TensorClass('int64', batch.mask, dims),
        token_type_ids: new TensorClass('int64', batch.types, dims),
      },
      [output],
    );
    const tensor = result[output];
    if (!tensor) throw new Error(`model produced no ${output} output`);
    const data = tensor.data as Float32Array;
    const rowWidth = tensor.dims.length > 1 ? Number(tensor.dims[1]) : 1;
    bucket.forEach((index, row) => take(data, rowWidth, row, index));
    tensor.dispose?.();
  }
}
