/** What createApp takes, its defaults, and their checks. */
import type { MiddlewareHandler } from 'hono';
import type { BatcherConfig } from '../core/batcher.js';
import { DEFAULT_BATCHING, resolveBatching } from '../core/batching.js';
import type { ModelSource } from '../core/model-registry.js';
import type { AppEnv } from './app-env.js';

export { DEFAULT_BATCHING };

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
  /**
   * Read the rest of a body refused for an over-long list (up to maxBodyBytes, discarded) before
   * answering, instead of answering while it still arrives. The Node server discards the rest
   * itself after the answer (false); in front of the Worker, wrangler's local proxy sometimes
   * answered 503 instead of the Worker's early 400 (true there; the Worker's limit is 1 MiB).
   */
  drainRefusedBodies: boolean;
}

/**
 * The parts of createApp a host composes with (the Node server, the Worker): where the models come
 * from, extra middleware, and additions to the probes.
 */
export interface AppHooks {
  /**
   * The models to serve, first one the default (the first of each task is that task's default):
   * - a list, served at once;
   * - a promise: /health answers while it settles, /ready and model routes answer 503 meanwhile;
   * - a loader `() => Promise<models>`, called when the app is created. When it rejects, /ready and
   *   model routes answer 503 with the reason, and the next request that needs a model (or /ready)
   *   calls it again -- one call in flight at a time. A list or promise that failed stays failed.
   */
  models: ModelSource;
  /**
   * Extra middleware (the Worker's edge cache), run after request id, metrics, CORS, auth, load
   * shedding and the body limit, before the routes. It may answer a request itself: that answer
   * still carries `x-request-id` and is counted by /metrics like any other.
   */
  middleware?: readonly MiddlewareHandler<AppEnv>[];
  /**
   * Every request but /health (after `middleware`) waits for a model load in progress (retrying a failed loader first)
   * instead of answering 503 at once: for a Worker, whose isolate loads its models on the first
   * request. Default false (`corom serve` answers 503 while it loads).
   */
  waitForModels?: boolean;
  /** An extra readiness check run by GET /ready once the models are in service; a string is the reason /ready answers 503. */
  readiness?: () => Promise<string | undefined>;
  /** Extra top-level fields merged into GET /info (the Worker adds `edge`). */
  info?: () => Promise<Record<string, unknown>> | Record<string, unknown>;
  /**
   * Extra fields for GET /health, shown only when no API keys are configured: with keys, /health and
   * /ready (both open) say only their status, never what is served or how.
   */
  health?: () => Record<string, unknown>;
}

/**
 * Everything createApp takes: the hooks above, plus the service's own settings.
 *
 * Model routes set `x-corom-backend` to the backend label(s) of the batches that answered
 * (EmbeddedBatch.backend, comma-joined when several), and /metrics counts answers per model and
 * backend (`corom_answers_total{model,backend}`).
 */
export interface AppOptions extends AppHooks {
  /** Accepted bearer keys; none = no authentication. */
  apiKeys?: readonly string[];
  /** Origins allowed by CORS (`*` for any); none = no CORS headers at all. */
  corsOrigins?: readonly string[];
  limits?: Partial<Limits>;
  /** Batching of every model's queue; defaults are DEFAULT_BATCHING (src/core/batching.ts). */
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
  drainRefusedBodies: false,
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
  const batching = resolveBatching(options.batching);
  positiveInteger('limits.maxInputs', limits.maxInputs);
  positiveInteger('limits.maxBodyBytes', limits.maxBodyBytes);
  positiveInteger('limits.requestTimeoutMs', limits.requestTimeoutMs);
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
