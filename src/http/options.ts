/** What createApp takes, its defaults, and their checks. */
import type { BatcherConfig } from './batcher.js';
import type { ServedModel } from '../core/served-model.js';

export interface Limits {
  /** Inputs per request (OpenAI's limit is 2048). */
  maxInputs: number;
  /**
   * Request body bytes. 4 MiB holds 2048 inputs of ~2 KB each (far past the 128-token
   * truncation for Chinese text) or 2048 x 128 token ids as JSON (~1.6 MB).
   */
  maxBodyBytes: number;
  /** Deadline of one request in the model queue (waiting plus inference). */
  requestTimeoutMs: number;
}

export interface AppOptions extends AppHooks {
  /**
   * The models to serve, first one the default. A promise lets the server answer /health
   * (and 503 on /ready and model routes) while models load; a loader is called again after it failed.
   */
  models: AppHooks['models'];
  /** Accepted bearer keys; none = no authentication. */
  apiKeys?: readonly string[];
  /** Origins allowed by CORS (`*` for any); none = no CORS headers at all. */
  corsOrigins?: readonly string[];
  limits?: Partial<Limits>;
  batching?: Partial<BatcherConfig>;
  /** Server-side log of failures (never keys or bodies). Default: none. */
  log?: (line: string) => void;
  /** Reported by /info and /openapi.json. */
  version?: string;
}

export const DEFAULT_LIMITS: Readonly<Limits> = {
  maxInputs: 2048,
  maxBodyBytes: 4 * 1024 * 1024,
  requestTimeoutMs: 30_000,
};

export const DEFAULT_BATCHING: Readonly<BatcherConfig> = {
  enabled: true,
  maxBatchTokens: 8192,
  maxBatchSize: 64,
  maxQueue: 256,
  // No idle wait: requests arriving in the same I/O turn still share a batch, and under load the
  // queue fills while the previous batch runs (measured with 64 connections: 0 ms ~1080 req/s,
  // p99 ~230 ms; 2 ms ~860 req/s, p99 ~420 ms).
  batchWaitMs: 0,
  concurrency: 1,
};

export const SERVICE_VERSION = '0.1.0';

export interface ResolvedOptions {
  apiKeys: readonly string[];
  corsOrigins: readonly string[];
  limits: Readonly<Limits>;
  batching: Readonly<BatcherConfig>;
  log: (line: string) => void;
  version: string;
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}

/** Fills defaults and rejects nonsense early (a programming or config error, not a client one). */
export function resolveOptions(options: AppOptions): ResolvedOptions {
  const limits = { ...DEFAULT_LIMITS, ...stripUndefined(options.limits ?? {}) };
  const batching = { ...DEFAULT_BATCHING, ...stripUndefined(options.batching ?? {}) };
  positiveInteger('limits.maxInputs', limits.maxInputs);
  positiveInteger('limits.maxBodyBytes', limits.maxBodyBytes);
  positiveInteger('limits.requestTimeoutMs', limits.requestTimeoutMs);
  for (const key of ['maxBatchTokens', 'maxBatchSize', 'maxQueue', 'concurrency'] as const) positiveInteger(`batching.${key}`, batching[key]);
  if (!(batching.batchWaitMs >= 0)) throw new RangeError(`batching.batchWaitMs must be >= 0, got ${batching.batchWaitMs}`);
  const apiKeys = (options.apiKeys ?? []).filter((k) => k.length > 0);
  return {
    apiKeys,
    corsOrigins: options.corsOrigins ?? [],
    limits,
    batching,
    log: options.log ?? (() => {}),
    version: options.version ?? SERVICE_VERSION,
  };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/*
 * CONTRACT (issue 13; the core branch implements these in AppOptions / createApp, the Worker
 * branch composes with them). Kept here as one type so both branches code against the same shape.
 *
 * - `models` also accepts a loader `() => Promise<readonly ServedModel[]>`: called when the app is
 *   created; when it rejects, /ready and model routes answer 503 with the reason, and the next
 *   request that needs a model (or /ready) calls it again (one call in flight at a time).
 * - `middleware`: extra Hono middleware run after request id, metrics, CORS, auth, load shedding
 *   and the body limit, before the routes (the Worker's edge cache). It may answer a request itself
 *   (a cache hit): that answer still carries `x-request-id` and is counted by /metrics.
 * - `readiness`: an extra readiness check; a string is the reason /ready answers 503.
 * - `info`: extra top-level fields merged into GET /info (the Worker adds `edge`).
 * - `health`: extra fields for GET /health, shown only when no API keys are configured.
 * - Model routes set `x-corom-backend` to the backend label(s) of the batches that answered
 *   (EmbeddedBatch.backend, comma-joined when several), and /metrics counts answers per
 *   model and backend (`corom_answers_total{model,backend}`).
 */
export interface AppHooks {
  models: readonly ServedModel[] | Promise<readonly ServedModel[]> | (() => Promise<readonly ServedModel[]>);
  middleware?: readonly import('hono').MiddlewareHandler<import('./app-env.js').AppEnv>[];
  readiness?: () => Promise<string | undefined>;
  info?: () => Promise<Record<string, unknown>> | Record<string, unknown>;
  health?: () => Record<string, unknown>;
}
