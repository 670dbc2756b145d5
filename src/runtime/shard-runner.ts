/**
 * Runs a model split by layers into shards (src/onnx/shards.ts): shard 0 takes token ids, every
 * later shard the previous one's hidden state, the last one returns sentence embeddings.
 * Runtime-neutral: it takes any onnxruntime-common session (onnxruntime-web in a Worker isolate,
 * onnxruntime-node for comparisons), so one shard can run per isolate with the hidden state sent
 * between them, or all shards in one process (`ShardChainEmbedder`).
 */
import type { InferenceSession, Tensor } from 'onnxruntime-common';
import type { Embedder, ModelInfo } from '../engine/types.js';
import { OUTPUT_EMBEDDING, SHARD_INPUT_HIDDEN, SHARD_OUTPUT_HIDDEN } from '../onnx/tensor-names.js';
import type { ShardMetadata, ShardSet } from '../store/shard-metadata.js';
import { DEFAULT_BUCKET_LIMITS, lengthBuckets, padBatch, type BucketLimits } from './length-buckets.js';

/** The padded token batch shard 0 takes (padBatch's output). */
export interface TokenBatch {
  rows: number;
  width: number;
  ids: BigInt64Array;
  mask: BigInt64Array;
  types: BigInt64Array;
}

/**
 * What one shard hands to the next: the hidden state, float32 [rows, width, hidden], and the
 * attention mask [rows, width] (later layers still mask padding). 4 x 128 tokens x 768 = 1.6 MB.
 */
export interface HiddenState {
  rows: number;
  width: number;
  hidden: number;
  state: Float32Array;
  mask: BigInt64Array;
}

export type ShardInput = { tokens: TokenBatch } | { hiddenState: HiddenState };
export type ShardOutput = { hiddenState: HiddenState } | { embeddings: Float32Array[] };

interface TensorConstructor {
  new (type: 'int64', data: BigInt64Array, dims: readonly number[]): Tensor;
  new (type: 'float32', data: Float32Array, dims: readonly number[]): Tensor;
}

export class ShardInputError extends Error {
  override name = 'ShardInputError';
}

/** Runs one shard's session: checks that the input is the kind this shard takes. */
export async function runShard(session: InferenceSession, shard: ShardMetadata, TensorClass: TensorConstructor, input: ShardInput): Promise<ShardOutput> {
  const first = shard.layers[0] === 0;
  const last = shard.outputs.some((o) => o.name === OUTPUT_EMBEDDING);
  let feeds: Record<string, Tensor>;
  let rows: number;
  let width: number;
  let mask: BigInt64Array;
  if ('tokens' in input) {
    if (!first) throw new ShardInputError(`shard ${shard.index + 1} (layers ${shard.layers[0]}-${shard.layers[1]}) takes a hidden state, not token ids`);
    ({ rows, width, mask } = input.tokens);
    const dims = [rows, width];
    feeds = {
      input_ids: new TensorClass('int64', input.tokens.ids, dims),
      attention_mask: new TensorClass('int64', mask, dims),
      token_type_ids: new TensorClass('int64', input.tokens.types, dims),
    };
  } else {
    if (first) throw new ShardInputError(`shard ${shard.index + 1} (layers ${shard.layers[0]}-${shard.layers[1]}) takes token ids, not a hidden state`);
    const h = input.hiddenState;
    const expected = shard.inputs.find((i) => i.name === SHARD_INPUT_HIDDEN)?.shape[2];
    if (h.hidden !== expected) throw new ShardInputError(`shard ${shard.index + 1} takes a hidden state of width ${String(expected)}, got ${h.hidden}`);
    if (h.state.length !== h.rows * h.width * h.hidden || h.mask.length !== h.rows * h.width) {
      throw new ShardInputError(`hidden state of ${h.state.length} values and mask of ${h.mask.length} do not match ${h.rows} x ${h.width} x ${h.hidden}`);
    }
    ({ rows, width, mask } = h);
    feeds = {
      [SHARD_INPUT_HIDDEN]: new TensorClass('float32', h.state, [rows, width, h.hidden]),
      attention_mask: new TensorClass('int64', mask, [rows, width]),
    };
  }
  const outputName = last ? OUTPUT_EMBEDDING : SHARD_OUTPUT_HIDDEN;
  const result = await session.run(feeds, [outputName]);
  const tensor = result[outputName];
  if (!tensor) throw new Error(`shard ${shard.index + 1} produced no ${outputName} output`);
  try {
    const data = tensor.data as Float32Array;
    if (last) {
      const H = Number(tensor.dims[1]);
      return { embeddings: Array.from({ length: rows }, (_, r) => data.slice(r * H, (r + 1) * H)) };
    }
    // A copy: the tensor's data may live in WASM memory that the next run reuses.
    return { hiddenState: { rows, width, hidden: Number(tensor.dims[2]), state: data.slice(), mask } };
  } finally {
    tensor.dispose?.();
  }
}

/** Runs every shard in order on one padded batch. */
export async function runChain(sessions: readonly InferenceSession[], set: ShardSet, TensorClass: TensorConstructor, tokens: TokenBatch): Promise<Float32Array[]> {
  if (sessions.length !== set.count) throw new Error(`the shard set has ${set.count} shards but ${sessions.length} sessions were given`);
  let input: ShardInput = { tokens };
  for (const [k, shard] of set.shards.entries()) {
    const output = await runShard(sessions[k]!, shard, TensorClass, input);
    if ('embeddings' in output) {
      if (k !== set.count - 1) throw new Error(`shard ${k + 1} of ${set.count} returned embeddings before the last shard`);
      return output.embeddings;
    }
    input = output;
  }
  throw new Error(`the last shard (${set.count}) returned a hidden state, not embeddings`);
}

/**
 * An Embedder over all shards in one process: length buckets of at most `limits` (the set's batch
 * cap in a Worker), each run through the whole chain. Used by tests and Node-side comparisons.
 */
export class ShardChainEmbedder implements Embedder {
  private closed = false;

  constructor(
    readonly info: ModelInfo,
    private readonly sessions: readonly InferenceSession[],
    private readonly set: ShardSet,
    private readonly TensorClass: TensorConstructor,
    private readonly limits: BucketLimits = DEFAULT_BUCKET_LIMITS,
  ) {}

  async embedTokens(inputs: readonly Int32Array[]): Promise<Float32Array[]> {
    if (this.closed) throw new Error('embedder is closed');
    const out = new Array<Float32Array>(inputs.length);
    for (const bucket of lengthBuckets(inputs.map((s) => s.length), this.limits)) {
      const vectors = await runChain(this.sessions, this.set, this.TensorClass, padBatch(bucket.map((i) => inputs[i]!)));
      bucket.forEach((index, row) => (out[index] = vectors[row]!));
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.sessions) await s.release();
  }
}

/** The set's measured batch cap as bucket limits (rows x maxLength per run), if it was measured. */
export function shardBatchLimits(set: ShardSet): BucketLimits | undefined {
  return set.batchCap ? { maxBatchSize: set.batchCap.rows, maxBatchTokens: set.batchCap.rows * set.batchCap.maxLength } : undefined;
}
