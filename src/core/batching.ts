/**
 * The queue's batching configuration and its defaults: the one place the service's batch limits are
 * set. The row and padded-token limits are the runtime's measured best (DEFAULT_BUCKET_LIMITS,
 * src/runtime/length-buckets.ts), so the batches the queue forms are the ones the ONNX embedders
 * run whole; `corom serve`, createApp and the Worker's isolate start from these numbers.
 */
import { DEFAULT_BUCKET_LIMITS } from '../runtime/length-buckets.js';
import type { BatcherConfig } from './batcher.js';

export const DEFAULT_BATCHING: Readonly<BatcherConfig> = {
  enabled: true,
  maxBatchTokens: DEFAULT_BUCKET_LIMITS.maxBatchTokens,
  maxBatchSize: DEFAULT_BUCKET_LIMITS.maxBatchSize,
  maxQueue: 256,
  // No idle wait: requests arriving in the same I/O turn still share a batch, and under load the
  // queue fills while the previous batch runs (measured with 64 connections: 0 ms ~1080 req/s,
  // p99 ~230 ms; 2 ms ~860 req/s, p99 ~420 ms).
  batchWaitMs: 0,
  concurrency: 1,
};

/** Defaults filled in and checked; a RangeError names the bad setting (a config error, not a client one). */
export function resolveBatching(overrides: Partial<BatcherConfig> = {}): Readonly<BatcherConfig> {
  const batching: BatcherConfig = { ...DEFAULT_BATCHING };
  for (const [key, value] of Object.entries(overrides)) if (value !== undefined) (batching as unknown as Record<string, unknown>)[key] = value;
  for (const key of ['maxBatchTokens', 'maxBatchSize', 'maxQueue', 'concurrency'] as const) {
    if (!Number.isInteger(batching[key]) || batching[key] < 1) throw new RangeError(`batching.${key} must be a positive integer, got ${batching[key]}`);
  }
  if (!(batching.batchWaitMs >= 0)) throw new RangeError(`batching.batchWaitMs must be >= 0, got ${batching.batchWaitMs}`);
  return batching;
}
