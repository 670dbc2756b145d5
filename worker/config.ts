/**
 * The Worker's configuration from its vars and secrets (worker/env.ts), checked once per isolate.
 * A bad value is a UsageError naming the var, answered to every request as a 500 with that line.
 */
import { DTYPES, type Dtype } from '../src/engine/types.js';
import { UsageError } from '../src/errors.js';
import { workersAiModelSpec, type WorkersAiModelSpec } from './workers-ai.js';
import type { WorkerEnv } from './env.js';

export const DEFAULT_MODEL_ID = 'corom-base';
/** What `corom upload-r2` writes: models/<model id>/... */
export const MODEL_KEY_ROOT = 'models';

export interface R2ModelConfig {
  id: string;
  /** "" or ending in "/". */
  prefix: string;
  dtype: Dtype;
  /**
   * MODEL_SHARDS: the model is answered in-isolate by the layer-shard set of this dtype
   * (corom.json `shards.<dtype>`), run by shard Workers over the SHARD_<k> service bindings,
   * instead of by one model.<dtype>.onnx in this isolate. `dtype` is then the same.
   */
  shards?: Dtype;
}

export interface OriginConfig {
  /** Base URLs without a trailing slash. */
  urls: string[];
  apiKey?: string;
  timeoutMs: number;
  failureThreshold: number;
  retryAfterMs: number;
  healthTtlMs: number;
}

export interface EdgeConfig {
  /** The model read from R2 and run in the isolate (and on the origins); absent with MODEL_ID="". */
  model?: R2ModelConfig;
  memoryBudgetBytes: number;
  origins: OriginConfig;
  workersAi: WorkersAiModelSpec[];
  cacheTtlSeconds: number;
  apiKeys: string[];
  corsOrigins: string[];
  maxInputs: number;
  maxBodyBytes: number;
  requestTimeoutMs: number;
}

export const DEFAULTS = {
  memoryBudgetMb: 128,
  originTimeoutMs: 10_000,
  originFailures: 3,
  originRetryMs: 30_000,
  originHealthMs: 30_000,
  // One thread runs coROM-base q4 at ~0.8-2 s of CPU per text (short to 128 tokens, measured in
  // workerd; docs/edge.md): 64 inputs stay within the 5-minute CPU limit wrangler.toml asks for.
  maxInputs: 64,
  // 1 MiB: the largest useful request, 64 texts at 512 tokens (~1.5 KB of UTF-8 each, 3 KB if
  // \u-escaped) or 64 x 512 token ids (~4 bytes each), is 100-400 KB. JSON.parse costs a multiple of
  // the body -- up to ~20x for a body of small values (`[{},{},...]`: ~60 bytes of heap per 3
  // bytes of text) -- so 1 MiB bounds a parse near 20 MB, where the Node server's 4 MiB would be
  // ~80 MB next to the WASM model in a 128 MB isolate. Lists over MAX_INPUTS never reach the
  // parse (src/http/json-scan.ts).
  maxBodyBytes: 1024 * 1024,
  requestTimeoutMs: 30_000,
} as const;

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

function integer(name: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined || value.trim() === '') return fallback;
  const parsed = Number(value.trim());
  if (!Number.isInteger(parsed) || parsed < min) throw new UsageError(`${name} must be an integer >= ${min} (got "${value}")`);
  return parsed;
}

function positiveNumber(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value.trim() === '') return fallback;
  const parsed = Number(value.trim());
  if (!Number.isFinite(parsed) || parsed <= 0) throw new UsageError(`${name} must be a positive number (got "${value}")`);
  return parsed;
}

function originUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`ORIGINS: "${value}" is not a URL (expected e.g. https://gpu1.example.com)`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new UsageError(`ORIGINS: "${value}" must be an http(s) URL`);
  if (url.search || url.hash || url.username || url.password) throw new UsageError(`ORIGINS: "${value}" must be a base URL without query, fragment or credentials`);
  return url.href.replace(/\/+$/, '');
}

function modelPrefix(value: string | undefined, id: string): string {
  if (value === undefined || value.trim() === '') return `${MODEL_KEY_ROOT}/${id}/`;
  const trimmed = value.trim().replace(/^\/+/, '');
  if (trimmed.split('/').some((part) => part === '..')) throw new UsageError(`MODEL_PREFIX must not contain ".." (got "${value}")`);
  return trimmed === '' || trimmed.endsWith('/') ? trimmed : `${trimmed}/`;
}

export function parseConfig(env: WorkerEnv): EdgeConfig {
  const id = env.MODEL_ID === undefined ? DEFAULT_MODEL_ID : env.MODEL_ID.trim();
  let model: R2ModelConfig | undefined;
  if (id !== '') {
    const dtype = (env.MODEL_DTYPE ?? 'q4').trim();
    if (!(DTYPES as readonly string[]).includes(dtype)) throw new UsageError(`MODEL_DTYPE must be one of ${DTYPES.join(', ')} (got "${env.MODEL_DTYPE}")`);
    if (!env.MODELS) throw new UsageError('the Worker has no MODELS binding (wrangler.toml [[r2_buckets]] binding = "MODELS"); set MODEL_ID = "" to serve Workers AI models only');
    const shards = (env.MODEL_SHARDS ?? '').trim();
    if (shards !== '' && !(DTYPES as readonly string[]).includes(shards)) {
      throw new UsageError(`MODEL_SHARDS must be empty (no shards) or one of ${DTYPES.join(', ')}, the dtype of the shard set to serve (got "${env.MODEL_SHARDS}")`);
    }
    model = shards !== ''
      ? { id, prefix: modelPrefix(env.MODEL_PREFIX, id), dtype: shards as Dtype, shards: shards as Dtype }
      : { id, prefix: modelPrefix(env.MODEL_PREFIX, id), dtype: dtype as Dtype };
  }

  const urls = list(env.ORIGINS).map(originUrl);
  if (new Set(urls).size !== urls.length) throw new UsageError('ORIGINS lists the same URL twice');
  if (urls.length > 0 && !model) throw new UsageError('ORIGINS is set but MODEL_ID is empty: origins serve the R2 model, set MODEL_ID');

  const workersAi = list(env.WORKERS_AI_MODELS).map(workersAiModelSpec);
  if (workersAi.length > 0 && !env.AI) {
    throw new UsageError('WORKERS_AI_MODELS is set but the Worker has no AI binding (add [ai] binding = "AI" to wrangler.toml)');
  }
  const ids = [...(model ? [model.id] : []), ...workersAi.map((m) => m.id)];
  const duplicate = ids.find((name, i) => ids.indexOf(name) !== i);
  if (duplicate !== undefined) throw new UsageError(`model id "${duplicate}" is configured twice (MODEL_ID / WORKERS_AI_MODELS)`);
  if (ids.length === 0) throw new UsageError('nothing to serve: set MODEL_ID (an R2 model) or WORKERS_AI_MODELS');

  return {
    ...(model ? { model } : {}),
    memoryBudgetBytes: positiveNumber('MEMORY_BUDGET_MB', env.MEMORY_BUDGET_MB, DEFAULTS.memoryBudgetMb) * 1e6,
    origins: {
      urls,
      ...(env.ORIGIN_API_KEY?.trim() ? { apiKey: env.ORIGIN_API_KEY.trim() } : {}),
      timeoutMs: integer('ORIGIN_TIMEOUT_MS', env.ORIGIN_TIMEOUT_MS, DEFAULTS.originTimeoutMs, 1),
      failureThreshold: integer('ORIGIN_FAILURES', env.ORIGIN_FAILURES, DEFAULTS.originFailures, 1),
      retryAfterMs: integer('ORIGIN_RETRY_MS', env.ORIGIN_RETRY_MS, DEFAULTS.originRetryMs, 0),
      healthTtlMs: integer('ORIGIN_HEALTH_MS', env.ORIGIN_HEALTH_MS, DEFAULTS.originHealthMs, 0),
    },
    workersAi,
    cacheTtlSeconds: integer('EMBED_CACHE_TTL', env.EMBED_CACHE_TTL, 0, 0),
    apiKeys: list(env.API_KEYS),
    corsOrigins: list(env.CORS_ORIGINS),
    maxInputs: integer('MAX_INPUTS', env.MAX_INPUTS, DEFAULTS.maxInputs, 1),
    maxBodyBytes: integer('MAX_BODY_BYTES', env.MAX_BODY_BYTES, DEFAULTS.maxBodyBytes, 1024),
    requestTimeoutMs: integer('REQUEST_TIMEOUT_MS', env.REQUEST_TIMEOUT_MS, DEFAULTS.requestTimeoutMs, 1),
  };
}

/** A shard Worker's configuration (worker/shard-worker.ts, wrangler.shard.toml). */
export interface ShardWorkerConfig {
  /** Key prefix of the model folder, as the front Worker's. */
  prefix: string;
  /** The shard set's dtype (MODEL_SHARDS). */
  dtype: Dtype;
  /** 0-based position of the shard this Worker runs (SHARD_INDEX is 1-based). */
  index: number;
}

export interface ShardWorkerVars {
  MODEL_ID?: string;
  MODEL_PREFIX?: string;
  MODEL_SHARDS?: string;
  SHARD_INDEX?: string;
}

export function parseShardWorkerConfig(env: ShardWorkerVars, hasBucket: boolean): ShardWorkerConfig {
  const id = env.MODEL_ID === undefined || env.MODEL_ID.trim() === '' ? DEFAULT_MODEL_ID : env.MODEL_ID.trim();
  const dtype = (env.MODEL_SHARDS ?? '').trim();
  if (!(DTYPES as readonly string[]).includes(dtype)) throw new UsageError(`MODEL_SHARDS must be one of ${DTYPES.join(', ')}: the dtype of the shard set (got "${env.MODEL_SHARDS ?? ''}")`);
  const index = integer('SHARD_INDEX', env.SHARD_INDEX, 0, 1);
  if (index === 0) throw new UsageError('SHARD_INDEX must be set: which shard (1 = the first) this Worker runs');
  if (!hasBucket) throw new UsageError('the shard Worker has no MODELS binding (wrangler.shard.toml [[r2_buckets]] binding = "MODELS")');
  return { prefix: modelPrefix(env.MODEL_PREFIX, id), dtype: dtype as Dtype, index: index - 1 };
}

/** The front Worker's service binding for shard `index` (0-based): SHARD_1 for the first. */
export function shardBindingName(index: number): `SHARD_${number}` {
  return `SHARD_${index + 1}`;
}
