/**
 * Where CoromEmbeddings / CoromReranker get vectors: a corom server (remote) or the engine in this
 * process (local). The choice, in order:
 *   engine given -> local;  baseUrl or fetcher given -> remote;  modelPath given -> local;
 *   COROM_BASE_URL set -> remote (key from COROM_API_KEY);  else local with the default model.
 */
import { getEnvironmentVariable } from '@langchain/core/utils/env';
import { BACKENDS, DTYPES } from '../../src/engine/types.js';
import { CoromError } from '../../src/errors.js';
import type { CoromHttpError } from './errors.js';
import { CoromHttpClient, type FetchLike } from './http-client.js';
import { sharedEngine, sharedModel, type LocalModel, type LocalModelOptions, type TextEmbedder } from './local-engine.js';

export interface CoromConnectionParams extends LocalModelOptions {
  /**
   * Server root of a corom server or any OpenAI-compatible embeddings server, e.g.
   * http://127.0.0.1:8080 (".../v1" is accepted too). Default: env COROM_BASE_URL.
   */
  baseUrl?: string;
  /** Bearer key for the server. Default: env COROM_API_KEY. */
  apiKey?: string;
  /** A Worker service binding (or any `{fetch}`) used instead of global fetch; implies remote mode. */
  fetcher?: FetchLike;
  /** Milliseconds one HTTP attempt may take (default 60000). */
  timeout?: number;
  /** An already loaded engine (src/engine Engine or anything with `embed`); implies local mode. */
  engine?: TextEmbedder;
}

export interface RemoteConnection {
  kind: 'remote';
  client: CoromHttpClient;
  /** Sent as `model`; undefined = the server's default. */
  model: string | undefined;
}

export interface LocalConnection {
  kind: 'local';
  engine: () => Promise<TextEmbedder>;
  /** The model whatever its kind (an embedding model or a cross-encoder ranker), for CoromReranker. */
  model: () => Promise<LocalModel>;
}

export type Connection = RemoteConnection | LocalConnection;

/** Host used for service-binding requests when no baseUrl is given (bindings ignore the host). */
const SERVICE_BINDING_ROOT = 'http://corom';
const DEFAULT_TIMEOUT_MS = 60_000;
export const DEFAULT_MAX_RETRIES = 6;

export interface RetryParams {
  maxRetries?: number;
  onFailedAttempt?: (error: CoromHttpError) => unknown;
}

export function resolveConnection(owner: string, params: CoromConnectionParams, retry: RetryParams): Connection {
  checkOptions(owner, params, retry);
  if (params.engine) {
    const engine = params.engine;
    return { kind: 'local', engine: () => Promise.resolve(engine), model: () => Promise.resolve(engine) };
  }
  const envBaseUrl = getEnvironmentVariable('COROM_BASE_URL')?.trim();
  const remote = params.baseUrl !== undefined || params.fetcher !== undefined || (params.modelPath === undefined && !!envBaseUrl);
  if (!remote) {
    const local: LocalModelOptions = { ...pick(params, ['modelPath', 'dtype', 'backend', 'threads', 'model']) };
    return { kind: 'local', engine: () => sharedEngine(local), model: () => sharedModel(local) };
  }
  const baseUrl = params.baseUrl ?? (params.fetcher ? SERVICE_BINDING_ROOT : envBaseUrl!);
  const apiKey = params.apiKey ?? getEnvironmentVariable('COROM_API_KEY');
  const client = new CoromHttpClient({
    baseUrl,
    ...(apiKey ? { apiKey } : {}),
    timeout: params.timeout ?? DEFAULT_TIMEOUT_MS,
    maxRetries: retry.maxRetries ?? DEFAULT_MAX_RETRIES,
    ...(params.fetcher ? { fetcher: params.fetcher } : {}),
    ...(retry.onFailedAttempt ? { onFailedAttempt: retry.onFailedAttempt } : {}),
  });
  return { kind: 'remote', client, model: params.model };
}

function pick<T extends object, K extends keyof T>(o: T, keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

function checkOptions(owner: string, params: CoromConnectionParams, retry: RetryParams): void {
  const bad = (what: string): never => {
    throw new CoromError(`${owner}: ${what}`);
  };
  if (params.dtype !== undefined && !DTYPES.includes(params.dtype)) bad(`dtype must be one of ${DTYPES.join(', ')}, got '${params.dtype}'`);
  if (params.backend !== undefined && !BACKENDS.includes(params.backend)) bad(`backend must be one of ${BACKENDS.join(', ')}, got '${params.backend}'`);
  if (params.threads !== undefined && !(Number.isInteger(params.threads) && params.threads > 0)) bad(`threads must be a positive integer, got ${params.threads}`);
  if (params.timeout !== undefined && !(Number.isFinite(params.timeout) && params.timeout > 0)) bad(`timeout must be a positive number of milliseconds, got ${params.timeout}`);
  if (retry.maxRetries !== undefined && !(Number.isInteger(retry.maxRetries) && retry.maxRetries >= 0)) bad(`maxRetries must be a non-negative integer, got ${retry.maxRetries}`);
  if (params.baseUrl !== undefined && (typeof params.baseUrl !== 'string' || params.baseUrl.trim() === '')) bad('baseUrl must be a non-empty URL string');
  if (params.modelPath !== undefined && (typeof params.modelPath !== 'string' || params.modelPath === '')) bad('modelPath must be a non-empty folder path');
  if ((params.baseUrl !== undefined || params.fetcher !== undefined) && (params.modelPath !== undefined || params.engine !== undefined)) {
    bad('pass either baseUrl / fetcher (a corom server) or modelPath / engine (in this process), not both');
  }
}
