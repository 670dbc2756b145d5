/**
 * Node entry to the engine: takes a converted folder (corom.json + model.<dtype>.onnx) or a raw
 * checkpoint folder (config.json + weights), converting the latter once and caching the result.
 */
import { createHash } from 'node:crypto';
import { access, constants, readFile, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { detectModelKind } from '../checkpoint/model-kind.js';
import { exists, WEIGHT_FILES } from '../checkpoint/read.js';
import { CoromError, ModelFileError, ModelKindError } from '../errors.js';
import { coromHome } from '../hub/paths.js';
import { convertedKind } from '../store/metadata.js';
import type { BucketLimits } from '../runtime/length-buckets.js';
import { convertIfStale } from '../store/convert.js';
import { readConvertedMetadata } from '../store/files.js';
import { modelFileName, type ConvertedMetadata } from '../store/metadata.js';
import { loadTokenizer } from '../tokenizer/load.js';
import { Engine } from './engine.js';
import { Ranker } from './ranker.js';
import type { NativeSessionOptions } from '../runtime/ort-node.js';
import type { ExternalDataFile, WasmSessionOptions } from '../runtime/ort-web.js';
import type { BackendName, Dtype, Embedder, ModelInfo, PairScorer, RankerInfo } from './types.js';

export interface LoadEngineOptions {
  /** A converted folder or a raw checkpoint folder. */
  model: string;
  dtype?: Dtype;
  backend?: BackendName;
  device?: 'cpu' | 'cuda';
  /** device cuda: fail (DeviceUnavailableError) instead of falling back to the CPU. */
  requireDevice?: boolean;
  threads?: number;
  /** Served model id; defaults to the folder name. */
  id?: string;
  /** Override the max length recorded at conversion (never above the model's positions). */
  maxLength?: number;
  limits?: BucketLimits;
  /** Where converted copies of raw checkpoints go when the checkpoint folder is read-only. */
  cacheDir?: string;
  /** One-line notices (conversion, CUDA fallback). */
  log?: (line: string) => void;
  /**
   * node backend: run inference in a worker thread. onnxruntime-node computes on the calling
   * thread, so without it every batch blocks the event loop (servers need this; see
   * src/runtime/ort-node-thread.ts).
   */
  thread?: boolean;
}

export async function loadEngine(options: LoadEngineOptions): Promise<Engine> {
  const opened = await openConverted(options);
  const { source, meta, tokenizer, maxLength, kind, dtype } = opened;
  if (kind !== 'embedding') throw new ModelKindError(source, kind, 'embedding');
  const info: Omit<ModelInfo, 'backend'> = {
    id: options.id ?? basename(source),
    dimensions: meta.hidden,
    maxLength,
    pooling: meta.pooling,
    dtype,
    vocabSize: meta.vocabSize,
  };
  return new Engine(tokenizer, await createOnBackend(EMBEDDER_FACTORIES, info, opened, options));
}

/** A cross-encoder ranker from a converted or raw ranking checkpoint folder (same options as loadEngine). */
export async function loadRanker(options: LoadEngineOptions): Promise<Ranker> {
  const opened = await openConverted(options);
  const { source, meta, tokenizer, maxLength, kind, dtype } = opened;
  if (kind !== 'rerank') throw new ModelKindError(source, kind, 'rerank');
  const info: Omit<RankerInfo, 'backend'> = { id: options.id ?? basename(source), kind: 'rerank', hidden: meta.hidden, maxLength, dtype, vocabSize: meta.vocabSize };
  return new Ranker(tokenizer, await createOnBackend(PAIR_SCORER_FACTORIES, info, opened, options));
}

/** Whichever the folder holds: an Engine for an embedding model, a Ranker for a rerank model. */
export async function loadModel(options: LoadEngineOptions): Promise<Engine | Ranker> {
  const { meta } = await resolveConverted(resolve(options.model), options.dtype ?? 'fp32', options);
  return convertedKind(meta) === 'rerank' ? loadRanker(options) : loadEngine(options);
}

type WasmFactory<Info, Model> = (model: Uint8Array, info: Info, options: WasmSessionOptions, externalData: ExternalDataFile[]) => Promise<Model>;
type NativeFactory<Info, Model> = (modelPath: string, info: Info, options: NativeSessionOptions) => Promise<Model>;

/**
 * Where each backend builds one kind of model. Each is imported only when chosen, so a node load
 * never pulls in onnxruntime-web, nor a wasm load onnxruntime-node.
 */
interface BackendFactories<Info, Model> {
  wasm: () => Promise<WasmFactory<Info, Model>>;
  node: () => Promise<NativeFactory<Info, Model>>;
  nodeThread: () => Promise<NativeFactory<Info, Model>>;
}

const EMBEDDER_FACTORIES: BackendFactories<Omit<ModelInfo, 'backend'>, Embedder> = {
  wasm: async () => (await import('../runtime/ort-web.js')).createWasmEmbedder,
  node: async () => (await import('../runtime/ort-node.js')).createNativeEmbedder,
  nodeThread: async () => (await import('../runtime/ort-node-thread.js')).createThreadedNativeEmbedder,
};

const PAIR_SCORER_FACTORIES: BackendFactories<Omit<RankerInfo, 'backend'>, PairScorer> = {
  wasm: async () => (await import('../runtime/ort-web.js')).createWasmPairScorer,
  node: async () => (await import('../runtime/ort-node.js')).createNativePairScorer,
  nodeThread: async () => (await import('../runtime/ort-node-thread.js')).createThreadedNativePairScorer,
};

/**
 * The opened model on the chosen backend: wasm gets the model's bytes (and its external data
 * file, if any); node gets the path, on a worker thread when options.thread is set.
 */
async function createOnBackend<Info, Model>(
  factories: BackendFactories<Info, Model>,
  info: Info,
  { dir, entry, modelPath, backend }: OpenedModel,
  options: LoadEngineOptions,
): Promise<Model> {
  try {
    if (backend === 'wasm') {
      const create = await factories.wasm();
      return await create(
        new Uint8Array(await readFile(modelPath)),
        info,
        optional({ limits: options.limits }),
        entry?.externalData ? [{ path: entry.externalData, data: new Uint8Array(await readFile(join(dir, entry.externalData))) }] : [],
      );
    }
    const create = await (options.thread ? factories.nodeThread() : factories.node());
    return await create(
      modelPath,
      info,
      optional({ threads: options.threads, device: options.device, requireDevice: options.requireDevice, limits: options.limits, warn: options.log }),
    );
  } catch (err) {
    throw loadFailure(err, modelPath);
  }
}

type OpenedModel = Awaited<ReturnType<typeof openConverted>>;

/** The converted folder, its metadata and tokenizer, checked against each other. */
async function openConverted(options: LoadEngineOptions) {
  const dtype = options.dtype ?? 'fp32';
  const backend = options.backend ?? 'node';
  const source = resolve(options.model);
  const { dir, meta } = await resolveConverted(source, dtype, options);
  const entry = meta.dtypes[dtype];
  const modelPath = join(dir, entry?.file ?? modelFileName(dtype));
  if (!(await exists(modelPath))) throw new ModelFileError(modelPath, `file not found (convert with: corom convert ${source} ${dir} --dtype ${dtype})`);
  const tokenizer = await loadTokenizer(dir);
  const maxLength = Math.min(options.maxLength ?? meta.maxLength, meta.maxPositions);
  if (tokenizer.vocabSize > meta.vocabSize) {
    throw new ModelFileError(join(dir, 'vocab.txt'), `has ${tokenizer.vocabSize} tokens but the model's embedding table has ${meta.vocabSize} rows`);
  }
  return { source, dir, meta, entry, modelPath, tokenizer, maxLength, kind: convertedKind(meta), dtype, backend };
}

function loadFailure(err: unknown, modelPath: string): Error {
  // ModelFileError, and DeviceUnavailableError (--require-device), say what is wrong themselves.
  if (err instanceof CoromError) return err;
  return new ModelFileError(modelPath, `onnxruntime cannot load it (${firstLine(err)}); the file is corrupt or truncated -- convert it again`);
}

function optional<T extends object>(o: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as { [K in keyof T]: Exclude<T[K], undefined> };
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 300);
}

/**
 * A converted folder for `source`: itself when it already is one; otherwise a conversion of the
 * raw checkpoint in `<source>/.corom/` (or under the cache dir when the folder is read-only),
 * redone only when the weights changed (the model store's stamp: src/store/stamp.ts).
 */
async function resolveConverted(source: string, dtype: Dtype, options: LoadEngineOptions): Promise<{ dir: string; meta: ConvertedMetadata }> {
  if (!(await exists(source))) throw new ModelFileError(source, 'model folder not found');
  if (!(await stat(source)).isDirectory()) throw new ModelFileError(source, 'not a folder (pass the model folder, not a file)');
  const own = await readConvertedMetadata(source);
  if (own?.dtypes[dtype] && !(await hasWeights(source))) return { dir: source, meta: own };

  if (!(await hasWeights(source))) {
    if (own) throw new ModelFileError(source, `converted folder has no ${dtype} model (has: ${Object.keys(own.dtypes).join(', ') || 'none'})`);
    if (!(await exists(join(source, 'config.json')))) throw new ModelFileError(join(source, 'config.json'), 'file not found');
    throw new ModelFileError(source, `no weights found (expected ${WEIGHT_FILES.join(' or ')})`);
  }
  const dir = (await writable(source))
    ? join(source, '.corom')
    : join(options.cacheDir ?? join(coromHome(process.env), 'converted'), createHash('sha256').update(source).digest('hex').slice(0, 16));
  const { meta } = await convertIfStale(source, dir, { dtype, ...(options.maxLength ? { maxLength: options.maxLength } : {}) }, {
    beforeConvert: () => options.log?.(`converting ${source} to ONNX (${dtype}) in ${dir} ...`),
  });
  return { dir, meta };
}

async function hasWeights(dir: string): Promise<boolean> {
  for (const f of WEIGHT_FILES) if (await exists(join(dir, f))) return true;
  return false;
}

async function writable(dir: string): Promise<boolean> {
  try {
    await access(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}
