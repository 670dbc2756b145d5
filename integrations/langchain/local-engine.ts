/**
 * The in-process engine behind CoromEmbeddings / CoromReranker: loaded on first use and shared by
 * every instance asking for the same model, dtype, backend and threads.
 *
 * The Node-only modules (engine loader, model resolution: node:fs, onnxruntime-node) are imported
 * through specifiers held in variables, so bundlers for Workers and browsers (esbuild, wrangler,
 * vite) do not follow them: remote mode bundles without any Node code.
 */
import { DTYPES, type BackendName, type Dtype } from '../../src/engine/types.js';
import { CoromError } from '../../src/errors.js';

/** What the integrations need from an engine; src/engine/engine.ts's Engine is one. */
export interface TextEmbedder {
  embed(texts: readonly string[], options?: { normalize?: boolean }): Promise<Float32Array[]>;
}

export interface LocalModelOptions {
  /** Converted folder (corom convert) or ModelScope checkout; default: COROM_MODEL, else corom-base. */
  modelPath?: string;
  /**
   * Default fp32, as `corom embed` and `corom serve`; for the default model COROM_DTYPE is read
   * first, like `corom serve` does.
   */
  dtype?: Dtype;
  backend?: BackendName;
  threads?: number;
  /** Served id of the engine (only a label in-process). */
  model?: string;
}

/** What CoromReranker needs from a cross-encoder; src/engine/ranker.ts's Ranker is one. */
export interface TextRanker {
  /** Scores (sigmoid of the logits) of each passage against the query, in input order. */
  rank(query: string, passages: readonly string[]): Promise<{ scores: number[] }>;
}

/** A loaded folder is either kind (corom.json `task`): an embedding model or a rerank model. */
export type LocalModel = TextEmbedder | TextRanker;

export function isTextRanker(model: LocalModel): model is TextRanker {
  return typeof (model as Partial<TextRanker>).rank === 'function' && typeof (model as Partial<TextEmbedder>).embed !== 'function';
}

type LoadedEngine = LocalModel & { close(): Promise<void> };

const ENGINE_LOADER = '../../src/engine/load.js';
const MODEL_RESOLVER = '../../src/hub/resolve.js';

type LoaderModule = typeof import('../../src/engine/load.js');
type ResolverModule = typeof import('../../src/hub/resolve.js');

const engines = new Map<string, Promise<LoadedEngine>>();

function isNode(): boolean {
  return typeof process !== 'undefined' && typeof process.versions?.node === 'string';
}

/**
 * The shared model for these options, loading it on first call (an Engine or a Ranker, by the
 * folder's kind); a failed load is retried next call.
 */
export function sharedModel(options: LocalModelOptions): Promise<LocalModel> {
  // The default model depends on the environment read at load time, so the key does too.
  const model = options.modelPath ?? (isNode() ? ['default', process.env.COROM_MODEL ?? null, process.env.COROM_DTYPE ?? null] : 'default');
  const key = JSON.stringify([model, options.dtype ?? null, options.backend ?? 'node', options.threads ?? null, options.model ?? null]);
  let loading = engines.get(key);
  if (!loading) {
    loading = loadLocalEngine(options);
    engines.set(key, loading);
    loading.catch(() => engines.delete(key));
  }
  return loading;
}

/** The shared embedding model for these options; a rerank model there is a CoromError saying so. */
export async function sharedEngine(options: LocalModelOptions): Promise<TextEmbedder> {
  const model = await sharedModel(options);
  if (isTextRanker(model)) {
    throw new CoromError(`${options.modelPath ?? 'the default model'} is a rerank model (a cross-encoder): it scores (query, document) pairs and gives no embeddings; use it with CoromReranker, and an embedding model with CoromEmbeddings`);
  }
  return model;
}

/** Closes every shared engine (their onnxruntime sessions); the next use loads them again. */
export async function releaseSharedEngines(): Promise<void> {
  const loaded = [...engines.values()];
  engines.clear();
  await Promise.all(loaded.map((p) => p.then((e) => e.close(), () => undefined)));
}

/** COROM_DTYPE, as `corom serve` reads it, for the default model. */
function envDtype(): Dtype | undefined {
  const value = process.env.COROM_DTYPE?.trim();
  if (!value) return undefined;
  if (!(DTYPES as readonly string[]).includes(value)) throw new CoromError(`COROM_DTYPE must be one of ${DTYPES.join(', ')} (got '${value}')`);
  return value as Dtype;
}

async function loadLocalEngine(options: LocalModelOptions): Promise<LoadedEngine> {
  if (!isNode()) {
    throw new CoromError('in-process coROM needs Node.js; in a Worker or browser pass baseUrl (or a fetcher service binding) to use a corom server');
  }
  const log = (line: string): void => void process.stderr.write(`corom: ${line}\n`);
  const { loadModel } = (await import(/* @vite-ignore */ ENGINE_LOADER)) as LoaderModule;
  let folder = options.modelPath;
  let dtype = options.dtype;
  if (!folder) {
    const { resolveDefaultModel, DEFAULT_SERVE_DTYPE } = (await import(/* @vite-ignore */ MODEL_RESOLVER)) as ResolverModule;
    dtype ??= envDtype() ?? DEFAULT_SERVE_DTYPE;
    folder = await resolveDefaultModel({ env: process.env, stderr: process.stderr, dtype });
  }
  return loadModel({
    model: folder,
    dtype: dtype ?? 'fp32',
    ...(options.backend ? { backend: options.backend } : {}),
    ...(options.threads ? { threads: options.threads } : {}),
    ...(options.model ? { id: options.model } : {}),
    log,
  });
}
