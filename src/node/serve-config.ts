/**
 * `corom serve` configuration from flags and COROM_* environment variables (a flag wins over its
 * variable). Every bad value is a UsageError naming the flag or variable it came from. Each flag
 * is declared once, in SERVE_FLAGS; parsing, the variables and `--help` are derived from it.
 */
import { availableParallelism } from 'node:os';
import { UsageError } from '../errors.js';
import { parseFlags } from '../flags.js';
import { BACKENDS, DTYPES, type BackendName, type Dtype } from '../engine/types.js';
import { DEFAULT_BATCHING, DEFAULT_LIMITS } from '../http/options.js';
import { DEFAULT_SERVE_DTYPE } from '../hub/resolve.js';

/** One model to serve: as given (folder, registry name or hub id), where it came from, and its id if given. */
export interface ServeModelSpec {
  spec: string;
  origin: '--model' | 'COROM_MODEL';
  /** --model-id / COROM_MODEL_ID at the same position; undefined = derived (registry name, hub id, folder name). */
  id?: string;
}

export interface ServeConfig {
  /**
   * Every --model (repeatable) / COROM_MODEL (comma-separated), in order, each with the --model-id
   * of the same position. Empty = the default model (with --model-id's first id, if given). The
   * first model of each kind (embedding, rerank) is that kind's default.
   */
  models: ServeModelSpec[];
  /** The first of `models` (kept for callers that serve one model). */
  model?: string;
  /** Where `model` came from, for messages. */
  modelOrigin?: '--model' | 'COROM_MODEL';
  /** The first --model-id / COROM_MODEL_ID. */
  modelId?: string;
  host: string;
  port: number;
  dtype: Dtype;
  backend: BackendName;
  device: 'cpu' | 'cuda';
  /** With device cuda: exit instead of falling back to the CPU. */
  requireDevice: boolean;
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

/** How a flag's text becomes a value; the same rule reads its environment variable. */
type FlagKind =
  | { kind: 'string' }
  /** A whole number in [min, max]. */
  | { kind: 'integer'; min: number; max?: number }
  | { kind: 'choice'; values: readonly string[] }
  /** Repeatable flag; its variable is comma-separated. */
  | { kind: 'list' }
  /** `--no-X` switch; its variable is on/off (also true/false, 1/0). */
  | { kind: 'off-switch' }
  /** `--X` switch; its variable is 1/0 (also on/off, true/false). */
  | { kind: 'on-switch' };

/**
 * One `corom serve` flag: everything about it is declared here once, and parsing, the environment
 * variable and `--help` are derived from it. In `help`, `{env}` stands for the variable and
 * `{default}` for the default; `\n` starts a continuation line.
 */
type ServeFlag = FlagKind & {
  name: string;
  /** Placeholder of the value in --help, e.g. "N"; none for a switch. */
  arg?: string;
  env: string;
  group: 'Model' | 'HTTP' | 'Batching';
  default?: string | number;
  help: string;
};

const SERVE_FLAGS = [
  { name: 'model', arg: 'DIR|NAME', env: 'COROM_MODEL', group: 'Model', kind: 'list',
    help: 'model folder (converted or raw checkpoint), registry name or hub id;\nrepeatable: an embedding model or a rerank model (cross-encoder)\neach [{env}, comma-separated]; default: the cached corom-base' },
  { name: 'model-id', arg: 'NAME', env: 'COROM_MODEL_ID', group: 'Model', kind: 'list',
    help: 'id clients send as "model", one per --model in the same order\n(default: registry name or folder name) [{env}, comma-separated]' },
  { name: 'dtype', arg: 'fp32|int8|q4', env: 'COROM_DTYPE', group: 'Model', kind: 'choice', values: DTYPES, default: DEFAULT_SERVE_DTYPE,
    help: 'weights to run (default {default}) [{env}]' },
  { name: 'backend', arg: 'node|wasm', env: 'COROM_BACKEND', group: 'Model', kind: 'choice', values: BACKENDS, default: 'node',
    help: 'onnxruntime-node or onnxruntime-web (default {default}) [{env}]' },
  { name: 'device', arg: 'cpu|cuda', env: 'COROM_DEVICE', group: 'Model', kind: 'choice', values: ['cpu', 'cuda'], default: 'cpu',
    help: 'cuda tries the CUDA execution provider, falls back to CPU with one\nline naming what is missing (default {default}) [{env}]' },
  { name: 'require-device', env: 'COROM_REQUIRE_DEVICE', group: 'Model', kind: 'on-switch',
    help: 'with --device cuda: exit non-zero (69) instead of falling back to\nthe CPU [{env}=1]' },
  { name: 'threads', arg: 'N', env: 'COROM_THREADS', group: 'Model', kind: 'integer', min: 1,
    help: 'native backend threads (default: cores - 1, leaving one to HTTP) [{env}]' },
  { name: 'max-length', arg: 'N', env: 'COROM_MAX_LENGTH', group: 'Model', kind: 'integer', min: 1,
    help: 'truncate inputs to N tokens (default from the model, 128) [{env}]' },
  { name: 'host', arg: 'ADDR', env: 'COROM_HOST', group: 'HTTP', kind: 'string', default: DEFAULT_HOST,
    help: 'listen address (default {default}) [{env}]' },
  { name: 'port', arg: 'N', env: 'COROM_PORT', group: 'HTTP', kind: 'integer', min: 0, max: 65535, default: DEFAULT_PORT,
    help: 'listen port, 0 = any free port (default {default}) [{env}]' },
  { name: 'api-key', arg: 'KEY', env: 'COROM_API_KEYS', group: 'HTTP', kind: 'list',
    help: 'accepted bearer key, repeatable [{env}, comma-separated];\nnone = no authentication' },
  { name: 'cors-origin', arg: 'ORIGIN', env: 'COROM_CORS_ORIGINS', group: 'HTTP', kind: 'list',
    help: 'allowed CORS origin, repeatable, * for any [{env},\ncomma-separated]; none = no CORS headers' },
  { name: 'max-body-bytes', arg: 'N', env: 'COROM_MAX_BODY_BYTES', group: 'HTTP', kind: 'integer', min: 1, default: DEFAULT_LIMITS.maxBodyBytes,
    help: 'request body limit (default {default}) [{env}]' },
  { name: 'request-timeout-ms', arg: 'N', env: 'COROM_REQUEST_TIMEOUT_MS', group: 'HTTP', kind: 'integer', min: 1, default: DEFAULT_LIMITS.requestTimeoutMs,
    help: 'a request not answered in N ms gets 503 (default {default}) [{env}]' },
  { name: 'drain-timeout-ms', arg: 'N', env: 'COROM_DRAIN_TIMEOUT_MS', group: 'HTTP', kind: 'integer', min: 0, default: DEFAULT_DRAIN_TIMEOUT_MS,
    help: 'on SIGTERM/SIGINT, wait up to N ms for in-flight requests (default {default}) [{env}]' },
  { name: 'max-batch-tokens', arg: 'N', env: 'COROM_MAX_BATCH_TOKENS', group: 'Batching', kind: 'integer', min: 1, default: DEFAULT_BATCHING.maxBatchTokens,
    help: 'padded tokens per batch, rows x longest (default {default}) [{env}]' },
  { name: 'max-batch-size', arg: 'N', env: 'COROM_MAX_BATCH_SIZE', group: 'Batching', kind: 'integer', min: 1, default: DEFAULT_BATCHING.maxBatchSize,
    help: 'rows per batch (default {default}) [{env}]' },
  { name: 'max-queue', arg: 'N', env: 'COROM_MAX_QUEUE', group: 'Batching', kind: 'integer', min: 1, default: DEFAULT_BATCHING.maxQueue,
    help: 'requests queued or running before 429 (default {default}) [{env}]' },
  { name: 'batch-wait-ms', arg: 'N', env: 'COROM_BATCH_WAIT_MS', group: 'Batching', kind: 'integer', min: 0, max: 60_000, default: DEFAULT_BATCHING.batchWaitMs,
    help: 'idle wait for more requests before a batch (default {default}) [{env}]' },
  { name: 'no-batching', env: 'COROM_BATCHING', group: 'Batching', kind: 'off-switch',
    help: 'one request = one batch, for benchmarks [{env}=off]' },
] as const satisfies readonly ServeFlag[];

type Flag = (typeof SERVE_FLAGS)[number]['name'];

/** flag name -> environment variable; every flag has one. */
export const SERVE_ENV: Record<string, string> = Object.fromEntries(SERVE_FLAGS.map((f) => [f.name, f.env]));

function flagHelp(flag: ServeFlag): string {
  const text = flag.help.replaceAll('{env}', flag.env).replaceAll('{default}', String(flag.default));
  const head = `--${flag.name}${flag.arg ? ` ${flag.arg}` : ''}`;
  return text
    .split('\n')
    .map((line, i) => (i === 0 ? `  ${head.padEnd(26)}${line}` : `${' '.repeat(28)}${line}`))
    .join('\n');
}

const GROUPS: readonly ServeFlag['group'][] = ['Model', 'HTTP', 'Batching'];

export const SERVE_USAGE = `Usage: corom serve [--model DIR|NAME ...] [--port ${DEFAULT_PORT}] [--host ${DEFAULT_HOST}] [options]

Serves the models over HTTP: OpenAI-compatible POST /v1/embeddings, GET /v1/models, POST /v1/rerank
and /v2/rerank (a rerank model's cross-encoder, or an embedding model's cosine), POST
/v1/sentence-embedding and /v1/text-ranking (ModelScope pipelines), POST /tokenize, GET /health, /ready, /info,
/metrics, /openapi.json and /docs. Every flag has an environment variable (in brackets); a flag wins.

${GROUPS.map((group) => [`${group}:`, ...SERVE_FLAGS.filter((f) => f.group === group).map((f) => flagHelp(f))].join('\n')).join('\n')}`;

/** node:util parseArgs options derived from the table. */
const PARSE_OPTIONS = Object.fromEntries(
  SERVE_FLAGS.map((f) => [f.name, f.kind === 'off-switch' || f.kind === 'on-switch' ? { type: 'boolean' } : f.kind === 'list' ? { type: 'string', multiple: true } : { type: 'string' }]),
) as { [K in Flag]: { type: 'string' | 'boolean'; multiple?: boolean } };

const FLAG_BY_NAME = new Map<Flag, ServeFlag>(SERVE_FLAGS.map((f) => [f.name, f]));

export function parseServeConfig(argv: string[], env: NodeJS.ProcessEnv): ServeConfig {
  const { values } = parseFlags(argv, PARSE_OPTIONS, { min: 0, max: 0, names: '' });
  const declared = (flag: Flag): ServeFlag => FLAG_BY_NAME.get(flag)!;

  /** The flag's value, else its variable's (empty = unset), with the name to blame. */
  const raw = (flag: Flag): { value: string; source: string } | undefined => {
    const given = values[flag];
    if (typeof given === 'string') return { value: given, source: `--${flag}` };
    const variable = declared(flag).env;
    const fromEnv = env[variable]?.trim();
    return fromEnv ? { value: fromEnv, source: variable } : undefined;
  };
  /** An integer flag's value, else its declared default (undefined when it has none). */
  const integer = (flag: Flag): number | undefined => {
    const spec = declared(flag);
    if (spec.kind !== 'integer') throw new Error(`--${flag} is not an integer flag`);
    const r = raw(flag);
    if (!r) return spec.default as number | undefined;
    const { min, max = Number.MAX_SAFE_INTEGER } = spec;
    const n = Number(r.value);
    if (!/^\d+$/.test(r.value) || n < min || n > max) {
      throw new UsageError(`${r.source} must be an integer from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : ' up'} (got '${r.value}')`);
    }
    return n;
  };
  const withDefault = (flag: Flag): number => integer(flag)!;
  const oneOf = <T extends string>(flag: Flag): T => {
    const spec = declared(flag);
    if (spec.kind !== 'choice') throw new Error(`--${flag} is not a choice flag`);
    const r = raw(flag);
    if (!r) return spec.default as T;
    if (!spec.values.includes(r.value)) throw new UsageError(`${r.source} must be one of ${spec.values.join(', ')} (got '${r.value}')`);
    return r.value as T;
  };
  const list = (flag: Flag): string[] => {
    // `multiple: true` flags parse to string[] (parseFlags' value type does not model that).
    const given = values[flag] as unknown;
    const fromFlags = Array.isArray(given) ? (given as string[]) : typeof given === 'string' ? [given] : [];
    const items = fromFlags.length ? fromFlags : (env[declared(flag).env] ?? '').split(',');
    return items.map((s) => s.trim()).filter((s) => s.length > 0);
  };
  /** An off-switch: false when the flag is given or its variable says off. */
  const switchedOn = (flag: Flag): boolean => {
    const variable = declared(flag).env;
    const fromEnv = env[variable]?.trim().toLowerCase();
    if (fromEnv && !['on', 'off', 'true', 'false', '1', '0'].includes(fromEnv)) {
      throw new UsageError(`${variable} must be on or off (got '${env[variable]}')`);
    }
    return values[flag] ? false : !(fromEnv && ['off', 'false', '0'].includes(fromEnv));
  };

  /** An on-switch: true when the flag is given or its variable says on. */
  const switchedOnExplicitly = (flag: Flag): boolean => {
    const variable = declared(flag).env;
    const fromEnv = env[variable]?.trim().toLowerCase();
    if (fromEnv && !['on', 'off', 'true', 'false', '1', '0'].includes(fromEnv)) {
      throw new UsageError(`${variable} must be 1 or 0 (got '${env[variable]}')`);
    }
    return (values[flag] as unknown) === true || ['on', 'true', '1'].includes(fromEnv ?? '');
  };

  /**
   * API keys: a key no client can send (empty, blank, with white space inside) is a mistake that
   * would otherwise switch auth off (`COROM_API_KEYS=" , "`) or lock every client out
   * (`--api-key "my key"`), so it is refused, naming where it came from.
   */
  const apiKeys = (): string[] => {
    const given = values['api-key'] as unknown;
    const fromFlags = Array.isArray(given) ? (given as string[]) : typeof given === 'string' ? [given] : [];
    const variable = declared('api-key').env;
    const source = fromFlags.length ? '--api-key' : variable;
    const items = fromFlags.length ? fromFlags : env[variable] === undefined ? [] : env[variable]!.split(',');
    // An empty variable is unset (as in most env files); anything else must hold only valid keys.
    if (!fromFlags.length && env[variable] === '') return [];
    return items.map((item, i) => {
      const key = fromFlags.length ? item : item.trim();
      const which = items.length > 1 ? `${source} (key ${i + 1} of ${items.length})` : source;
      if (key.trim() === '') throw new UsageError(`${which} is empty: every API key must be a non-empty token without spaces`);
      if (/\s/.test(key)) throw new UsageError(`${which} contains white space, which no client can send in 'Authorization: Bearer <key>'; use a key without spaces`);
      return key;
    });
  };

  const batching = switchedOn('no-batching');
  const modelSpecs = list('model');
  const modelOrigin = (values['model'] as unknown) !== undefined ? '--model' : 'COROM_MODEL';
  const modelIds = list('model-id');
  const idOrigin = (values['model-id'] as unknown) !== undefined ? '--model-id' : 'COROM_MODEL_ID';
  if (modelIds.length > Math.max(1, modelSpecs.length)) {
    throw new UsageError(`${idOrigin} gives ${modelIds.length} ids for ${modelSpecs.length || 'the default'} model${modelSpecs.length > 1 ? 's' : ''}: give one id per ${modelOrigin}, in the same order`);
  }
  const repeatedId = modelIds.find((id, i) => modelIds.indexOf(id) !== i);
  if (repeatedId !== undefined) throw new UsageError(`${idOrigin} gives the id '${repeatedId}' twice: every served model needs its own id`);
  const models: ServeModelSpec[] = modelSpecs.map((spec, i) => ({ spec, origin: modelOrigin, ...(modelIds[i] ? { id: modelIds[i] } : {}) }));
  const backend = oneOf<BackendName>('backend');
  const device = oneOf<'cpu' | 'cuda'>('device');
  if (backend === 'wasm' && device === 'cuda') throw new UsageError('--device cuda needs --backend node (the WASM backend runs on the CPU only)');
  const modelId = modelIds[0];
  // The HTTP event loop needs a core of its own: onnxruntime's spinning intra-op threads on every
  // core starve it (tiny-bert on 2 cores, load generator on the same box: 190-540 req/s with
  // 2 threads, ~1000 req/s with 1).
  const threads = integer('threads') ?? Math.max(1, availableParallelism() - 1);
  const maxLength = integer('max-length');

  return {
    models,
    ...(models[0] ? { model: models[0].spec, modelOrigin } : {}),
    ...(modelId ? { modelId } : {}),
    host: raw('host')?.value ?? String(declared('host').default),
    port: withDefault('port'),
    dtype: oneOf<Dtype>('dtype'),
    backend,
    device,
    requireDevice: switchedOnExplicitly('require-device'),
    threads,
    ...(maxLength ? { maxLength } : {}),
    apiKeys: apiKeys(),
    corsOrigins: list('cors-origin'),
    batching,
    maxBatchTokens: withDefault('max-batch-tokens'),
    maxBatchSize: withDefault('max-batch-size'),
    maxQueue: withDefault('max-queue'),
    batchWaitMs: withDefault('batch-wait-ms'),
    requestTimeoutMs: withDefault('request-timeout-ms'),
    maxBodyBytes: withDefault('max-body-bytes'),
    drainTimeoutMs: withDefault('drain-timeout-ms'),
  };
}
