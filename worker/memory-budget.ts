/**
 * Whether an artifact fits the isolate. Cloudflare gives an isolate 128 MB for the JS heap and
 * WebAssembly memory together, and an isolate over it is killed mid-request, so the Worker decides
 * before loading: from the peak that scripts/edge-memory.ts --record measured and wrote into
 * corom.json (`edge.peakBytes`), or, without one, from the artifact's size and the factors measured
 * for onnxruntime-web 1.30 (docs/edge-memory.md): about 1.1x the weights in WASM memory with ONNX
 * external data, 3.4x when the weights are inside the .onnx (the protobuf is parsed in WASM
 * memory, then the initializers are copied), plus ~10 MB of runtime and activations.
 */
import type { Dtype } from '../src/engine/types.js';
import { CoromError } from '../src/errors.js';
import type { ConvertedMetadata } from '../src/store/metadata.js';
import type { BucketLimits } from '../src/runtime/length-buckets.js';
import { shardBatchLimits } from '../src/runtime/shard-runner.js';
import type { ShardSet } from '../src/store/metadata.js';

/**
 * The largest run of the in-isolate session when nothing was measured: 1024 padded tokens
 * (8 x 128). ORT's WebAssembly memory never shrinks, so the largest run sets the isolate's peak;
 * for coROM-base q4 it grows by ~7 MB per 128-token row on top of the weights.
 */
export const WORKER_BATCH_LIMITS: BucketLimits = { maxBatchTokens: 1024, maxBatchSize: 8 };

/**
 * The largest run allowed: the batch the peak was measured with (edge.batchRows x edge.maxLength),
 * so the measured peak holds by construction; else WORKER_BATCH_LIMITS.
 */
export function isolateBatchLimits(meta: ConvertedMetadata, dtype: Dtype): BucketLimits {
  const edge = meta.edge;
  if (edge && edge.dtype === dtype) return { maxBatchTokens: edge.batchRows * edge.maxLength, maxBatchSize: edge.batchRows };
  return WORKER_BATCH_LIMITS;
}

export const EXTERNAL_DATA_FACTOR = 1.1;
export const EMBEDDED_WEIGHTS_FACTOR = 3.4;
export const RUNTIME_OVERHEAD_BYTES = 10e6;

export interface PeakMemory {
  bytes: number;
  /** `measured`: corom.json edge.peakBytes for this dtype; `estimate`: from the file sizes. */
  source: 'measured' | 'estimate';
  /** How the figure was obtained, for messages. */
  basis: string;
}

export function peakMemory(meta: ConvertedMetadata, dtype: Dtype): PeakMemory {
  const entry = meta.dtypes[dtype];
  if (!entry) throw new Error(`corom.json has no ${dtype} entry`);
  if (meta.edge && meta.edge.dtype === dtype && meta.edge.peakBytes > 0) {
    return {
      bytes: meta.edge.peakBytes,
      source: 'measured',
      basis: `measured by scripts/edge-memory.ts: WASM ${mb(meta.edge.wasmBytes)} + JS ${mb(meta.edge.jsBytes)}, batch of ${meta.edge.batchRows} x ${meta.edge.maxLength} tokens`,
    };
  }
  const factor = entry.externalData ? EXTERNAL_DATA_FACTOR : EMBEDDED_WEIGHTS_FACTOR;
  return {
    bytes: Math.round(entry.bytes * factor + RUNTIME_OVERHEAD_BYTES),
    source: 'estimate',
    basis:
      `estimated as ${factor} x ${mb(entry.bytes)} of ${entry.externalData ? 'external-data' : 'embedded'} weights + ${mb(RUNTIME_OVERHEAD_BYTES)}, ` +
      `since corom.json has no measured edge.peakBytes for ${dtype} (scripts/edge-memory.ts --record writes one)`,
  };
}

/** The refusal message when `peak` exceeds `budgetBytes`, else undefined. */
export function budgetRefusal(modelId: string, file: string, peak: PeakMemory, budgetBytes: number): string | undefined {
  if (peak.bytes <= budgetBytes) return undefined;
  return (
    `model '${modelId}' (${file}) needs about ${mb(peak.bytes)} at peak, over this Worker's MEMORY_BUDGET_MB of ${mb(budgetBytes)} ` +
    `(${peak.basis}); serve it from an origin (ORIGINS), or upload a smaller artifact (q4 with external data)`
  );
}

export function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/** The in-isolate backend refuses an artifact over the budget (HTTP 503, /ready false). */
export class MemoryBudgetError extends CoromError {
  constructor(message: string) {
    super(message);
    this.name = 'MemoryBudgetError';
  }
}

/**
 * The largest run a shard set may be given: its recorded batch cap (corom.json `batchCap`, the
 * largest batch every shard was measured within budget at: scripts/edge-memory.ts --record), else
 * one sequence of the model's maxLength, the smallest run there is.
 */
export function shardSetLimits(set: ShardSet, maxLength: number): BucketLimits {
  return shardBatchLimits(set) ?? { maxBatchSize: 1, maxBatchTokens: maxLength };
}

/**
 * An unmeasured shard's peak at one sequence of maxLength (its batch limit without a recorded cap),
 * from its ORT-format file, on the high side of every set measured (docs/edge-memory.md, shard
 * table, 1 x 128 tokens): int8 and q4 weights stay in place in WASM memory (peak/file 1.23x for
 * coROM-base int8 unsplit up to 1.47x for its second shard, the difference being the fixed part),
 * fp32 weights are also prepacked for the GEMM (1.76x of the file in WASM memory for the small
 * fp32 model). The fixed part (runtime, one run's activations, JS) measured 13-25 MB. Under-
 * estimating here would let an isolate be killed mid-request, so the estimate errs high.
 */
export const SHARD_ESTIMATE_FACTOR: Record<Dtype, number> = { fp32: 1.8, int8: 1.15, q4: 1.15 };
export const SHARD_ESTIMATE_OVERHEAD_BYTES = 25e6;

/**
 * Each shard's peak: its recorded `edge.peakBytes` (measured at the set's batch cap), else an
 * estimate from its ORT-format file (SHARD_ESTIMATE_FACTOR, SHARD_ESTIMATE_OVERHEAD_BYTES).
 */
export function shardPeaks(set: ShardSet): PeakMemory[] {
  return set.shards.map((shard) => {
    if (shard.edge && shard.edge.peakBytes > 0) {
      return {
        bytes: shard.edge.peakBytes,
        source: 'measured',
        basis: `measured by scripts/edge-memory.ts --record: WASM ${mb(shard.edge.wasmBytes)} + JS ${mb(shard.edge.jsBytes)}, batch of ${shard.edge.batchRows} x ${shard.edge.maxLength} tokens`,
      } satisfies PeakMemory;
    }
    const bytes = shard.ortBytes ?? shard.bytes;
    const factor = SHARD_ESTIMATE_FACTOR[set.dtype];
    return {
      bytes: Math.round(bytes * factor + SHARD_ESTIMATE_OVERHEAD_BYTES),
      source: 'estimate',
      basis: `estimated as ${factor} x ${mb(bytes)} (${set.dtype}) + ${mb(SHARD_ESTIMATE_OVERHEAD_BYTES)}, since corom.json has no measured edge.peakBytes for it (scripts/edge-memory.ts --record writes one)`,
    } satisfies PeakMemory;
  });
}

/** The refusal when any shard's peak exceeds the budget (each shard Worker is its own isolate). */
export function shardBudgetRefusal(modelId: string, set: ShardSet, budgetBytes: number): string | undefined {
  const peaks = shardPeaks(set);
  const over = set.shards.map((shard, i) => ({ shard, peak: peaks[i]! })).filter(({ peak }) => peak.bytes > budgetBytes);
  if (over.length === 0) return undefined;
  const which = over.map(({ shard, peak }) => `shard ${shard.index + 1} of ${set.count} (${shard.ortFile ?? shard.file}) needs about ${mb(peak.bytes)} at peak (${peak.basis})`).join('; ');
  return `model '${modelId}' is over this Worker's MEMORY_BUDGET_MB of ${mb(budgetBytes)}: ${which}; serve it from an origin (ORIGINS), or convert it into more shards`;
}
