/**
 * The Worker's runtime-neutral parts under Node, where every branch is cheap to reach: the
 * circuit breaker's state machine, the memory estimate, configuration errors, Workers AI ids and
 * the cache key. (The workerd tests run them end to end.)
 */
import { describe, expect, it } from 'vitest';

import { UsageError } from '../../src/errors.js';
import type { ConvertedMetadata, ShardSet } from '../../src/store/metadata.js';
import { CircuitBreaker } from '../../worker/circuit-breaker.js';
import { parseConfig } from '../../worker/config.js';
import { embeddingsCacheKey } from '../../worker/embed-cache.js';
import type { WorkerEnv } from '../../worker/env.js';
import { budgetRefusal, isolateBatchLimits, peakMemory, shardBudgetRefusal, shardPeaks, WORKER_BATCH_LIMITS } from '../../worker/memory-budget.js';
import { workersAiModelSpec } from '../../worker/workers-ai.js';

describe('CircuitBreaker', () => {
  it('opens after N consecutive failures, lets one trial through after the interval, closes on success', () => {
    let now = 0;
    const breaker = new CircuitBreaker({ failureThreshold: 3, retryAfterMs: 1000 }, () => now);
    breaker.failure();
    breaker.failure();
    breaker.success(); // resets the count: failures must be consecutive
    breaker.failure();
    breaker.failure();
    expect(breaker.state).toBe('closed');
    breaker.failure();
    expect(breaker.state).toBe('open');
    expect(breaker.tryAcquire()).toBe(false);
    now = 999;
    expect(breaker.tryAcquire()).toBe(false);
    now = 1000;
    expect(breaker.state).toBe('half-open');
    expect(breaker.tryAcquire()).toBe(true);
    expect(breaker.tryAcquire()).toBe(false); // one trial at a time
    breaker.failure(); // the trial failed: open for another interval
    expect(breaker.state).toBe('open');
    now = 1999;
    expect(breaker.tryAcquire()).toBe(false);
    now = 2000;
    expect(breaker.tryAcquire()).toBe(true);
    breaker.success();
    expect(breaker.state).toBe('closed');
    expect(breaker.consecutiveFailures).toBe(0);
  });

  it('frees the trial slot when the trial is released without a verdict', () => {
    let now = 0;
    const breaker = new CircuitBreaker({ failureThreshold: 1, retryAfterMs: 10 }, () => now);
    breaker.failure();
    now = 10;
    expect(breaker.tryAcquire()).toBe(true);
    breaker.release();
    expect(breaker.tryAcquire()).toBe(true);
  });
});

const meta = (entry: { bytes: number; externalData?: string }, edge?: ConvertedMetadata['edge']): ConvertedMetadata => ({
  format: 1,
  hidden: 768,
  layers: 12,
  heads: 12,
  intermediate: 3072,
  vocabSize: 21128,
  maxPositions: 512,
  maxLength: 128,
  pooling: 'cls',
  dtypes: { q4: { file: 'model.q4.onnx', ...entry } },
  ...(edge ? { edge } : {}),
});

describe('memory budget', () => {
  it('estimates from file sizes with the documented factors when nothing was measured', () => {
    expect(peakMemory(meta({ bytes: 100e6, externalData: 'model.q4.onnx.data' }), 'q4')).toMatchObject({ bytes: 120e6, source: 'estimate' });
    const embedded = peakMemory(meta({ bytes: 100e6 }), 'q4');
    expect(embedded).toMatchObject({ bytes: 350e6, source: 'estimate' });
    expect(budgetRefusal('corom-base', 'model.q4.onnx', embedded, 128e6)).toMatch(/needs about 350\.0 MB at peak, over this Worker's MEMORY_BUDGET_MB of 128\.0 MB \(estimated as 3\.4 x 100\.0 MB/);
    expect(budgetRefusal('corom-base', 'model.q4.onnx', peakMemory(meta({ bytes: 100e6, externalData: 'x' }), 'q4'), 128e6)).toBeUndefined();
  });

  it('prefers the measured peak for the same dtype', () => {
    const edge = { dtype: 'q4' as const, peakBytes: 97e6, wasmBytes: 90e6, jsBytes: 7e6, batchRows: 32, maxLength: 128 };
    expect(peakMemory(meta({ bytes: 100e6 }, edge), 'q4')).toMatchObject({ bytes: 97e6, source: 'measured' });
    // Measured for another artifact: not this one's figure.
    expect(peakMemory(meta({ bytes: 100e6 }, { ...edge, dtype: 'int8' }), 'q4').source).toBe('estimate');
  });

  it('estimates an unrecorded shard on the high side of the measured sets, by dtype', () => {
    const set = (dtype: ShardSet['dtype'], ...ortBytes: number[]): ShardSet =>
      ({ dtype, count: ortBytes.length, shards: ortBytes.map((bytes, index) => ({ index, ortFile: `s${index + 1}.ort`, ortBytes: bytes })) }) as unknown as ShardSet;
    // Measured at 1 x 128 (docs/edge-memory.md): coROM-base int8 shards 53.7 / 50.1 MB files -> 77.5 / 73.8 MB,
    // int8 unsplit 103.7 -> 127.4 MB, q4 unsplit 72.9 -> 104.9 MB, small fp32 75.9 -> 135.7 MB. The estimate is never lower.
    const measured: Array<[ShardSet['dtype'], number, number]> = [['int8', 53.7e6, 77.5e6], ['int8', 50.1e6, 73.8e6], ['int8', 103.7e6, 127.4e6], ['q4', 72.9e6, 104.9e6], ['fp32', 75.9e6, 135.7e6]];
    for (const [dtype, file, peak] of measured) expect(shardPeaks(set(dtype, file))[0]!.bytes, `${dtype} ${file}`).toBeGreaterThanOrEqual(peak);
    expect(shardPeaks(set('int8', 100e6))[0]).toMatchObject({ bytes: 140e6, source: 'estimate' });
    expect(shardPeaks(set('fp32', 100e6))[0]).toMatchObject({ bytes: 205e6, source: 'estimate' });
    expect(shardBudgetRefusal('corom-base', set('int8', 50e6, 100e6), 128e6)).toMatch(/shard 2 of 2 \(s2\.ort\) needs about 140\.0 MB at peak \(estimated as 1\.15 x 100\.0 MB \(int8\) \+ 25\.0 MB/);
    expect(shardBudgetRefusal('corom-base', set('int8', 50e6, 80e6), 128e6)).toBeUndefined();
  });

  it('never runs a bigger batch in the isolate than the one whose peak was measured', () => {
    const edge = { dtype: 'q4' as const, peakBytes: 97e6, wasmBytes: 90e6, jsBytes: 7e6, batchRows: 2, maxLength: 128 };
    expect(isolateBatchLimits(meta({ bytes: 1 }, edge), 'q4')).toEqual({ maxBatchTokens: 256, maxBatchSize: 2 });
    expect(isolateBatchLimits(meta({ bytes: 1 }), 'q4')).toBe(WORKER_BATCH_LIMITS);
  });
});

describe('parseConfig', () => {
  const models = {} as WorkerEnv['MODELS'];

  it('fills the defaults: models/<id>/ prefix, q4, 128 MB, no origins, no cache', () => {
    const config = parseConfig({ MODELS: models });
    expect(config.model).toEqual({ id: 'corom-base', prefix: 'models/corom-base/', dtype: 'q4' });
    expect(config).toMatchObject({ memoryBudgetBytes: 128e6, cacheTtlSeconds: 0, apiKeys: [], maxInputs: 64 });
    expect(config.origins).toMatchObject({ urls: [], timeoutMs: 10_000, failureThreshold: 3, retryAfterMs: 30_000, healthTtlMs: 30_000 });
  });

  it('reads origins, keys and Workers AI models', () => {
    const config = parseConfig({
      MODELS: models,
      ORIGINS: ' https://gpu1.example.com/ , http://10.0.0.2:8080 ',
      ORIGIN_API_KEY: ' s3cret ',
      API_KEYS: 'a, b',
      AI: { run: async () => ({}) },
      WORKERS_AI_MODELS: '@cf/baai/bge-m3, @cf/google/embeddinggemma-300m=768',
    });
    expect(config.origins.urls).toEqual(['https://gpu1.example.com', 'http://10.0.0.2:8080']);
    expect(config.origins.apiKey).toBe('s3cret');
    expect(config.apiKeys).toEqual(['a', 'b']);
    expect(config.workersAi).toEqual([
      { id: '@cf/baai/bge-m3', dimensions: 1024, maxLength: 8192, pooling: 'cls' },
      { id: '@cf/google/embeddinggemma-300m', dimensions: 768, maxLength: 512, pooling: 'mean' },
    ]);
  });

  it('names the var at fault', () => {
    const bad: Array<[WorkerEnv, RegExp]> = [
      [{ MODELS: models, MODEL_DTYPE: 'fp16' }, /MODEL_DTYPE must be one of fp32, int8, q4/],
      [{}, /no MODELS binding/],
      [{ MODELS: models, ORIGINS: 'gpu1.example.com' }, /ORIGINS: "gpu1.example.com" is not a URL/],
      [{ MODELS: models, ORIGINS: 'ftp://x' }, /must be an http\(s\) URL/],
      [{ MODELS: models, ORIGINS: 'https://a,https://a/' }, /same URL twice/],
      [{ MODELS: models, ORIGIN_TIMEOUT_MS: '0' }, /ORIGIN_TIMEOUT_MS must be an integer >= 1/],
      [{ MODELS: models, MEMORY_BUDGET_MB: 'lots' }, /MEMORY_BUDGET_MB must be a positive number/],
      [{ MODELS: models, WORKERS_AI_MODELS: '@cf/baai/bge-m3' }, /no AI binding/],
      [{ MODEL_ID: '', AI: { run: async () => ({}) }, WORKERS_AI_MODELS: '@cf/x/unknown' }, /write it as "@cf\/x\/unknown=<dimensions>"/],
      [{ MODEL_ID: '' }, /nothing to serve/],
      [{ MODELS: models, MODEL_PREFIX: 'models/../secret' }, /MODEL_PREFIX must not contain "\.\."/],
    ];
    for (const [env, message] of bad) {
      expect(() => parseConfig(env)).toThrow(UsageError);
      expect(() => parseConfig(env)).toThrow(message);
    }
  });
});

describe('Workers AI model ids', () => {
  it('takes known ids as they are and others with their dimensions', () => {
    expect(workersAiModelSpec('@cf/baai/bge-base-en-v1.5')).toMatchObject({ dimensions: 768 });
    expect(workersAiModelSpec('@cf/baai/bge-base-en-v1.5=512')).toMatchObject({ dimensions: 512 });
    expect(() => workersAiModelSpec('bge-m3')).toThrow(/not a Workers AI model id/);
    expect(() => workersAiModelSpec('@cf/x/y=0')).toThrow(/positive integer dimensions/);
  });
});

describe('embeddings cache key', () => {
  it('is the same for equivalent requests and differs with anything that changes the answer', async () => {
    const base = { model: 'corom-base', dtype: 'q4', input: ['你好'], normalize: undefined, dimensions: undefined, encodingFormat: undefined };
    const key = await embeddingsCacheKey(base);
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(await embeddingsCacheKey({ ...base, normalize: true, encodingFormat: 'float', dimensions: null })).toBe(key);
    for (const change of [{ model: 'other' }, { dtype: 'int8' }, { input: ['你好!'] }, { input: '你好' }, { normalize: false }, { dimensions: 8 }, { encodingFormat: 'base64' }]) {
      expect(await embeddingsCacheKey({ ...base, ...change })).not.toBe(key);
    }
  });
});
