/**
 * What corom.json says about a model split by layers into shards (`corom convert --shards N`):
 * each shard is its own graph, small enough for one 128 MB Worker isolate, and they run in order,
 * each handing its hidden state to the next. Shard count, split points and the batch cap are
 * properties of the artifact, recorded here; nothing downstream hard-codes them.
 */
import type { Dtype } from '../engine/types.js';

/** One graph input or output, as the runner feeds or reads it. */
export interface ShardTensor {
  name: string;
  type: 'int64' | 'float32';
  /** Symbolic dims are strings ('batch', 'sequence'). */
  shape: (number | string)[];
}

/** Peak memory of one shard measured by scripts/edge-memory.ts --record, as the Worker loads it. */
export interface ShardEdgeMeasurement {
  /** WASM linear memory + JS memory above the started runtime's baseline. */
  peakBytes: number;
  wasmBytes: number;
  jsBytes: number;
  /** The run the peak was measured with: batchRows x maxLength tokens (the shard's batch cap). */
  batchRows: number;
  maxLength: number;
  /** WASM memory to grow to before loading (what this shard needed, so Emscripten never over-grows). */
  reserveBytes: number;
}

export interface ShardMetadata {
  /** 0-based position in the chain. */
  index: number;
  /** The ONNX graph file in the converted folder. */
  file: string;
  bytes: number;
  /**
   * The same graph in onnxruntime's ORT (flatbuffer) format, when converted with --ort-format:
   * onnxruntime-web can keep its initializers in the model buffer instead of copying them, which
   * is what the edge loader (src/runtime/ort-web-low-memory.ts) relies on.
   */
  ortFile?: string;
  ortBytes?: number;
  /** Encoder layers [start, end) this shard computes; the first also embeds, the last also pools. */
  layers: [number, number];
  inputs: ShardTensor[];
  outputs: ShardTensor[];
  edge?: ShardEdgeMeasurement;
}

export interface ShardSet {
  dtype: Dtype;
  count: number;
  shards: ShardMetadata[];
  /**
   * The largest run every shard was measured with (the smallest shard cap), written by --record:
   * a Worker splits larger requests into runs of at most this many rows x maxLength tokens.
   */
  batchCap?: { rows: number; maxLength: number };
}

/**
 * Split points for `count` shards of `layers` layers, as even as possible, larger shards first
 * (the first shard also holds the embedding table). Returns the [start, end) of each shard.
 */
export function evenLayerRanges(layers: number, count: number): [number, number][] {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`shard count must be a positive integer (got ${count})`);
  if (count > layers) throw new RangeError(`cannot split ${layers} layers into ${count} shards: at most one shard per layer`);
  const ranges: [number, number][] = [];
  let start = 0;
  for (let k = 0; k < count; k++) {
    const size = Math.floor(layers / count) + (k < layers % count ? 1 : 0);
    ranges.push([start, start + size]);
    start += size;
  }
  return ranges;
}

/** Layer ranges from split points, e.g. 12 layers split at [6] -> [0, 6), [6, 12). */
export function layerRangesAt(layers: number, splits: readonly number[]): [number, number][] {
  const points = [0, ...splits, layers];
  for (let i = 1; i < points.length; i++) {
    if (!Number.isInteger(points[i]) || points[i]! <= points[i - 1]!) {
      throw new RangeError(`split points must be increasing integers strictly between 0 and ${layers} (got ${splits.join(', ')})`);
    }
  }
  return points.slice(1).map((end, i) => [points[i]!, end]);
}

/** model.int8.shard1of2.onnx: 1-based in the name, so it reads "shard 1 of 2". */
export function shardFileName(dtype: Dtype, index: number, count: number, extension: 'onnx' | 'ort' = 'onnx'): string {
  return `model.${dtype}.shard${index + 1}of${count}.${extension}`;
}
