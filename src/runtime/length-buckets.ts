/**
 * Groups sequences of different lengths into padded batches. Sorting by length first means a
 * mixed batch does not pay for its longest text: each sub-batch is padded only to its own longest.
 */

export interface BucketLimits {
  /** Upper bound on rows x padded length per sub-batch (the work and memory of one run). */
  maxBatchTokens: number;
  /** Upper bound on rows per sub-batch. */
  maxBatchSize: number;
}

/**
 * The one default batch size of the project: the core's queue (src/core/batching.ts, what
 * `corom serve --max-batch-tokens/--max-batch-size` default to) forms batches within these limits
 * and the ONNX embedders split what they get with the same numbers, so a batch the queue forms is
 * run as formed. It lives here, below the core, because the runtime uses it too.
 *
 * 256 rows lets a bucket of short queries (~15 tokens) still make one large GEMM: measured +9%
 * texts/s on coROM-base shape against 64 rows (docs/benchmarks.md); past 16k padded tokens
 * throughput falls (cache).
 */
export const DEFAULT_BUCKET_LIMITS: Readonly<BucketLimits> = { maxBatchTokens: 16384, maxBatchSize: 256 };

/** Index lists into `lengths`, each a sub-batch; every index appears exactly once. */
export function lengthBuckets(lengths: readonly number[], limits: Readonly<BucketLimits> = DEFAULT_BUCKET_LIMITS): number[][] {
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[a]! - lengths[b]! || a - b);
  const buckets: number[][] = [];
  let current: number[] = [];
  for (const index of order) {
    // Sorted ascending, so the newest row is the longest: padded size = rows * its length.
    const rows = current.length + 1;
    if (current.length > 0 && (rows > limits.maxBatchSize || rows * lengths[index]! > limits.maxBatchTokens)) {
      buckets.push(current);
      current = [];
    }
    current.push(index);
  }
  if (current.length > 0) buckets.push(current);
  return buckets;
}

/**
 * Flat, zero-padded int64 tensors for one sub-batch: ids, attention mask, token type ids (all 0
 * for single texts; `typeIds[r]` for row r when given, as a cross-encoder's pairs need).
 */
export function padBatch(
  sequences: readonly Int32Array[],
  typeIds?: readonly Int32Array[],
): { ids: BigInt64Array; mask: BigInt64Array; types: BigInt64Array; rows: number; width: number } {
  const rows = sequences.length;
  let width = 0;
  for (const s of sequences) if (s.length > width) width = s.length;
  const ids = new BigInt64Array(rows * width);
  const mask = new BigInt64Array(rows * width);
  const types = new BigInt64Array(rows * width);
  for (let r = 0; r < rows; r++) {
    const s = sequences[r]!;
    const t = typeIds?.[r];
    const base = r * width;
    for (let j = 0; j < s.length; j++) {
      ids[base + j] = BigInt(s[j]!);
      mask[base + j] = 1n;
      if (t !== undefined && t[j] !== 0) types[base + j] = BigInt(t[j]!);
    }
  }
  return { ids, mask, types, rows, width };
}
