/**
 * `corom serve` configuration from flags and COROM_* environment variables (a flag wins over its
 * variable). Every bad value is a UsageError naming the flag or variable it came from.
 */
import { availableParallelism } from 'node:os';
import { UsageError } from '../errors.js';
import { parseFlags } from '../flags.js';
import { BACKENDS, DTYPES, type BackendName, type Dtype } from '../engine/types.js';
import { DEFAULT_BATCHING, DEFAULT_LIMITS } from '../http/options.js';
import { DEFAULT_SERVE_DTYPE } from '../hub/resolve.js';

export interface ServeConfig {
  /** --model / COROM_MODEL as given (folder, registry name or hub id); undefined = the default model. */
  model?: string;
  /** Where `model` came from, for messages. */
  modelOrigin?: '--model' | 'COROM_MODEL';
  modelId?: string;
  host: string;
  port: number;
  dtype: Dtype;
  backend: BackendName;
  device: 'cpu' | 'cuda';
  threads: number;
  maxLength?: number;
  apiKeys: string[];
  corsOrigins: string[];
  batching: boolean;
  maxBatchTokens: number;
  maxBatchSize: number;
  maxQueue: number;
  batchWaitMs: number;
  requestTimeoutMs: number;
  maxBodyBytes: number;
  drainTimeoutMs: number;
}

const DEFAULT_PORT = 8080;
const DEFAULT_HOST = '127.0.0.1';
const DEFAULT_DRAIN_TIMEOUT_MS = 10_000;

/** flag name -> environment variable; every flag has one. */
export const SERVE_ENV: Record<string, string> = {
  model: 'COROM_MODEL',
  'model-id': 'COROM_MODEL_ID',
  host: 'COROM_HOST',
  port: 'COROM_PORT',
  dtype: 'COROM_DTYPE',
  backend: 'COROM_BACKEND',
  device: 'COROM_DEVICE',
  threads: 'COROM_THREADS',
  'max-length': 'COROM_MAX_LENGTH',
  'api-key': 'COROM_API_KEYS',
  'cors-origin': 'COROM_CORS_ORIGINS',
  'no-batching': 'COROM_BATCHING',
  'max-batch-tokens': 'COROM_MAX_BATCH_TOKENS',
  'max-batch-size': 'COROM_MAX_BATCH_SIZE',
  'max-queue': 'COROM_MAX_QUEUE',
  'batch-wait-ms': 'COROM_BATCH_WAIT_MS',
  'request-timeout-ms': 'COROM_REQUEST_TIMEOUT_MS',
  'max-body-bytes': 'COROM_MAX_BODY_BYTES',
  'drain-timeout-ms': 'COROM_DRAIN_TIMEOUT_MS',
};

export const SERVE_USAGE = `Usage: corom serve [--model DIR|NAME] [--port 8080] [--host 127.0.0.1] [options]

Serves the model over HTTP: OpenAI-compatible POST /v1/embeddings, GET /v1/models, POST /v1/rerank,
POST /v1/sentence-embedding (ModelScope pipeline), POST /tokenize, GET /health, /ready, /info,
/metrics, /openapi.json and /docs. Every flag has an environment variable (in brackets); a flag wins.

Model:
  --model DIR|NAME          model folder (converted or raw checkpoint), registry name or hub id
                            [COROM_MODEL]; default: the cached corom-base (fetched on first run)
  --model-id NAME           id clients send as "model" (default: the folder name) [COROM_MODEL_ID]
  --dtype fp32|int8|q4      weights to run (default ${DEFAULT_SERVE_DTYPE}) [COROM_DTYPE]
  --backend node|wasm       onnxruntime-node or onnxruntime-web (default node) [COROM_BACKEND]
  --device cpu|cuda         cuda tries the CUDA execution provider, falls back to CPU with one
                            line (default cpu) [COROM_DEVICE]
  --threads N               native backend threads (default: cores - 1, leaving one to HTTP) [COROM_THREADS]
  --max-length N            truncate inputs to N tokens (default from the model, 128) [COROM_MAX_LENGTH]
HTTP:
  --host ADDR               listen address (default ${DEFAULT_HOST}) [COROM_HOST]
  --port N                  listen port, 0 = any free port (default ${DEFAULT_PORT}) [COROM_PORT]
  --api-key KEY             accepted bearer key, repeatable [COROM_API_KEYS, comma-separated];
                            none = no authentication
  --cors-origin ORIGIN      allowed CORS origin, repeatable, * for any [COROM_CORS_ORIGINS,
                            comma-separated]; none = no CORS headers
  --max-body-bytes N        request body limit (default ${DEFAULT_LIMITS.maxBodyBytes}) [COROM_MAX_BODY_BYTES]
  --request-timeout-ms N    a request not answered in N ms gets 503 (default ${DEFAULT_LIMITS.requestTimeoutMs}) [COROM_REQUEST_TIMEOUT_MS]
  --drain-timeout-ms N      on SIGTERM/SIGINT, wait up to N ms for in-flight requests (default ${DEFAULT_DRAIN_TIMEOUT_MS}) [COROM_DRAIN_TIMEOUT_MS]
Batching:
  --max-batch-tokens N      padded tokens per batch, rows x longest (default ${DEFAULT_BATCHING.maxBatchTokens}) [COROM_MAX_BATCH_TOKENS]
  --max-batch-size N        rows per batch (default ${DEFAULT_BATCHING.maxBatchSize}) [COROM_MAX_BATCH_SIZE]
  --max-queue N             requests queued or running before 429 (default ${DEFAULT_BATCHING.maxQueue}) [COROM_MAX_QUEUE]
  --batch-wait-ms N         idle wait for more requests before a batch (default ${DEFAULT_BATCHING.batchWaitMs}) [COROM_BATCH_WAIT_MS]
  --no-batching             one request = one batch, for benchmarks [COROM_BATCHING=off]`;

const FLAGS = {
  model: { type: 'string' },
  'model-id': { type: 'string' },
  host: { type: 'string' },
  port: { type: 'string' },
  dtype: { type: 'string' },
  backend: { type: 'string' },
  device: { type: 'string' },
  threads: { type: 'string' },
  'max-length': { type: 'string' },
  'api-key': { type: 'string', multiple: true },
  'cors-origin': { type: 'string', multiple: true },
  'no-batching': { type: 'boolean' },
  'max-batch-tokens': { type: 'string' },
  'max-batch-size': { type: 'string' },
  'max-queue': { type: 'string' },
  'batch-wait-ms': { type: 'string' },
  'request-timeout-ms': { type: 'string' },
  'max-body-bytes': { type: 'string' },
  'drain-timeout-ms': { type: 'string' },
} as const;

type Flag = keyof typeof FLAGS;

export function parseServeConfig(argv: string[], env: NodeJS.ProcessEnv): ServeConfig {
  const { values } = parseFlags(argv, FLAGS, { min: 0, max: 0, names: '' });

  /** The flag's value, else its variable's (empty = unset), with the name to blame. */
  const raw = (flag: Flag): { value: string; source: string } | undefined => {
    const given = values[flag];
    if (typeof given === 'string') return { value: given, source: `--${flag}` };
    const variable = SERVE_ENV[flag];
    const fromEnv = env[variable]?.trim();
    return fromEnv ? { value: fromEnv, source: variable } : undefined;
  };
  const integer = (flag: Flag, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number => {
    const r = raw(flag);
    if (!r) return fallback;
    const n = Number(r.value);
    if (!/^\d+$/.test(r.value) || n < min || n > max) {
      throw new UsageError(`${r.source} must be an integer from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : ' up'} (got '${r.value}')`);
    }
    return n;
  };
  const optionalInteger = (flag: Flag): number | undefined => (raw(flag) ? integer(flag, 0, 1) : undefined);
  const oneOf = <T extends string>(flag: Flag, allowed: readonly T[], fallback: T): T => {
    const r = raw(flag);
    if (!r) return fallback;
    if (!(allowed as readonly string[]).includes(r.value)) throw new UsageError(`${r.source} must be one of ${allowed.join(', ')} (got '${r.value}')`);
    return r.value as T;
  };
  const list = (flag: 'api-key' | 'cors-origin'): string[] => {
    // `multiple: true` flags parse to string[] (parseFlags' value type does not model that).
    const given = values[flag] as unknown;
    const fromFlags = Array.isArray(given) ? (given as string[]) : typeof given === 'string' ? [given] : [];
    const items = fromFlags.length ? fromFlags : (env[SERVE_ENV[flag]] ?? '').split(',');
    return items.map((s) => s.trim()).filter((s) => s.length > 0);
  };

  const batchingEnv = env.COROM_BATCHING?.trim().toLowerCase();
  if (batchingEnv && !['on', 'off', 'true', 'false', '1', '0'].includes(batchingEnv)) {
    throw new UsageError(`COROM_BATCHING must be on or off (got '${env.COROM_BATCHING}')`);
  }
  const model = raw('model');
  const backend = oneOf('backend', BACKENDS, 'node');
  const device = oneOf('device', ['cpu', 'cuda'] as const, 'cpu');
  if (backend === 'wasm' && device === 'cuda') throw new UsageError('--device cuda needs --backend node (the WASM backend runs on the CPU only)');
  const modelId = raw('model-id')?.value;
  // The HTTP event loop needs a core of its own: onnxruntime's spinning intra-op threads on every
  // core starve it (tiny-bert on 2 cores, load generator on the same box: 190-540 req/s with
  // 2 threads, ~1000 req/s with 1).
  const threads = optionalInteger('threads') ?? Math.max(1, availableParallelism() - 1);
  const maxLength = optionalInteger('max-length');

  return {
    ...(model ? { model: model.value, modelOrigin: model.source === '--model' ? '--model' : 'COROM_MODEL' } : {}),
    ...(modelId ? { modelId } : {}),
    host: raw('host')?.value ?? DEFAULT_HOST,
    port: integer('port', DEFAULT_PORT, 0, 65535),
    dtype: oneOf('dtype', DTYPES, DEFAULT_SERVE_DTYPE),
    backend,
    device,
    threads,
    ...(maxLength ? { maxLength } : {}),
    apiKeys: list('api-key'),
    corsOrigins: list('cors-origin'),
    batching: values['no-batching'] ? false : !(batchingEnv && ['off', 'false', '0'].includes(batchingEnv)),
    maxBatchTokens: integer('max-batch-tokens', DEFAULT_BATCHING.maxBatchTokens, 1),
    maxBatchSize: integer('max-batch-size', DEFAULT_BATCHING.maxBatchSize, 1),
    maxQueue: integer('max-queue', DEFAULT_BATCHING.maxQueue, 1),
    batchWaitMs: integer('batch-wait-ms', DEFAULT_BATCHING.batchWaitMs, 0, 60_000),
    requestTimeoutMs: integer('request-timeout-ms', DEFAULT_LIMITS.requestTimeoutMs, 1),
    maxBodyBytes: integer('max-body-bytes', DEFAULT_LIMITS.maxBodyBytes, 1),
    drainTimeoutMs: integer('drain-timeout-ms', DEFAULT_DRAIN_TIMEOUT_MS, 0),
  };
}
