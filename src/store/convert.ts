/**
 * Checkpoint folder -> converted folder: model.<dtype>.onnx (+ .data), vocab.txt, config.json,
 * tokenizer_config.json (when present) and corom.json, the metadata the runtime reads; and the one
 * convert-if-stale routine that `corom fetch` and the engine's loader share.
 */
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { BertConfig } from '../checkpoint/bert-config.js';
import { exists, readCheckpoint, WEIGHT_FILES } from '../checkpoint/read.js';
import type { Dtype, ModelKind, Pooling } from '../engine/types.js';
import { detectModelKind } from '../checkpoint/model-kind.js';
import { ModelFileError } from '../errors.js';
import { buildBertGraph } from '../onnx/bert-graph.js';
import { atomicWrite, readConvertedMetadata, writeConvertedMetadata } from './files.js';
import { convertedKind, DEFAULT_MAX_LENGTH, externalDataFileName, modelFileName, type ConvertedMetadata } from './metadata.js';
import { checkWeights, stampWeights } from './stamp.js';

export interface ConvertOptions {
  dtype?: Dtype;
  /** What the checkpoint is; default: detected from config.json / configuration.json (see checkpoint/model-kind.ts). */
  kind?: ModelKind;
  pooling?: Pooling;
  /** Longest input in tokens; default 128 (the ModelScope pipeline's), capped at the model's positions. */
  maxLength?: number;
  /** int8 quantization range; see quantizeColumnsInt8. */
  int8MaxLevel?: number;
  q4BlockSize?: number;
  /**
   * Also output `last_hidden_state` (what Hugging Face tooling such as transformers.js reads).
   * Default: yes for fp32/int8; no for q4, the edge artifact, where every MB of activations counts.
   */
  hiddenStateOutput?: boolean;
  /**
   * Write the weights to `model.<dtype>.onnx.data` (ONNX external data) beside a small graph file.
   * onnxruntime-web then needs about 1.1x the weights in WASM memory instead of about 3.4x when
   * it parses them out of the protobuf: what decides whether a model fits a 128 MB isolate.
   */
  externalData?: boolean;
}

export interface ConvertResult {
  modelPath: string;
  bytes: number;
  dtype: Dtype;
  kind: ModelKind;
}

const COPIED_FILES = ['vocab.txt', 'config.json', 'tokenizer_config.json', 'special_tokens_map.json', 'configuration.json'];

/**
 * `source` is recorded in corom.json for people (default: the source folder); the weights' stamp
 * (size, mtime, sha256) is recorded beside it for convertIfStale.
 */
export async function convertCheckpoint(srcDir: string, outDir: string, options: ConvertOptions = {}, source: string = srcDir): Promise<ConvertResult> {
  const dtype = options.dtype ?? 'fp32';
  const pooling = options.pooling ?? 'cls';
  if (!(await exists(join(srcDir, 'vocab.txt')))) throw new ModelFileError(join(srcDir, 'vocab.txt'), 'file not found');
  const kind = options.kind ?? (await detectModelKind(srcDir));
  const { config, weights, weightFile, head } = await readCheckpoint(srcDir, kind);
  const stamp = await stampWeights(weightFile);
  const maxLength = Math.min(options.maxLength ?? DEFAULT_MAX_LENGTH, config.maxPositions);

  const graph = buildBertGraph(config, weights, {
    dtype,
    pooling,
    ...(options.int8MaxLevel !== undefined ? { int8MaxLevel: options.int8MaxLevel } : {}),
    ...(options.q4BlockSize !== undefined ? { q4BlockSize: options.q4BlockSize } : {}),
    exposeHiddenState: options.hiddenStateOutput ?? (dtype !== 'q4' && kind === 'embedding'),
    ...(head ? { rankingHead: head } : {}),
  });
  const metadata = { 'corom.task': kind, 'corom.pooling': pooling, 'corom.dtype': dtype, 'corom.max_length': String(maxLength) };
  const file = modelFileName(dtype);
  const dataFile = externalDataFileName(dtype);
  const serialized = options.externalData ? graph.serializeWithExternalData(metadata, dataFile) : { model: graph.serialize(metadata), data: undefined };

  await mkdir(outDir, { recursive: true });
  const modelPath = join(outDir, file);
  // Data first: a graph file never points at weights that are not there yet.
  if (serialized.data) await atomicWrite(join(outDir, dataFile), serialized.data);
  else await rm(join(outDir, dataFile), { force: true });
  await atomicWrite(modelPath, serialized.model);
  const bytes = serialized.model.byteLength + (serialized.data?.byteLength ?? 0);
  if (srcDir !== outDir) {
    for (const name of COPIED_FILES) {
      if (await exists(join(srcDir, name))) await copyFile(join(srcDir, name), join(outDir, name));
    }
  }
  const previous = await readConvertedMetadata(outDir).catch(() => undefined);
  // Other dtypes already in the folder stay listed only when they came from the same weights.
  const sameWeights = previous?.pooling === pooling && convertedKind(previous) === kind && previous.weights?.sha256 === stamp.sha256;
  const meta: ConvertedMetadata = {
    ...describe(config, maxLength, pooling),
    task: kind,
    source,
    weights: stamp,
    dtypes: { ...(sameWeights ? previous.dtypes : {}), [dtype]: { file, bytes, ...(serialized.data ? { externalData: dataFile } : {}) } },
    // A re-converted artifact invalidates the memory measured for it.
    ...(sameWeights && previous.edge && previous.edge.dtype !== dtype ? { edge: previous.edge } : {}),
    // Shard sets are written by convertShards from the same weights; keep them while those hold.
    ...(sameWeights && previous.shards ? { shards: previous.shards } : {}),
  };
  await writeConvertedMetadata(outDir, meta);
  return { modelPath, bytes, dtype, kind };
}

export function describe(config: BertConfig, maxLength: number, pooling: Pooling): Omit<ConvertedMetadata, 'dtypes'> {
  return {
    format: 1,
    hidden: config.hiddenSize,
    layers: config.numLayers,
    heads: config.numHeads,
    intermediate: config.intermediateSize,
    vocabSize: config.vocabSize,
    maxPositions: config.maxPositions,
    maxLength,
    pooling,
  };
}

/** The weights file readCheckpoint would read (same order of preference), if any. */
export async function findWeightsFile(srcDir: string): Promise<string | undefined> {
  for (const name of WEIGHT_FILES) if (await exists(join(srcDir, name))) return join(srcDir, name);
  return undefined;
}

export interface ConvertIfStaleOptions {
  /** Recorded as corom.json `source`; default the source folder. */
  source?: string;
  /** Called just before a conversion starts (for a progress line). */
  beforeConvert?: () => void;
}

export interface ConvertIfStaleResult {
  meta: ConvertedMetadata;
  /** Set when this call converted (the folder was missing the dtype or was stale). */
  converted?: ConvertResult;
}

/**
 * Makes `outDir` hold `options.dtype` converted from the weights in `srcDir`, converting only when
 * the dtype is missing (graph or external data file included), was made with another pooling, or
 * the weights changed by the stamp of ./stamp.ts. A touched but unchanged weights file is not
 * converted again; its new mtime is recorded instead.
 */
export async function convertIfStale(srcDir: string, outDir: string, options: ConvertOptions = {}, hooks: ConvertIfStaleOptions = {}): Promise<ConvertIfStaleResult> {
  const dtype = options.dtype ?? 'fp32';
  const weightsFile = await findWeightsFile(srcDir);
  if (!weightsFile) throw new ModelFileError(srcDir, `no weights found (expected ${WEIGHT_FILES.join(' or ')})`);
  const current = await readConvertedMetadata(outDir).catch(() => undefined);
  const entry = current?.dtypes[dtype];
  const present =
    entry !== undefined &&
    (options.pooling === undefined || current!.pooling === options.pooling) &&
    // A folder converted before rankers existed has no task: stale if the checkpoint is a ranker.
    convertedKind(current!) === (options.kind ?? (await detectModelKind(srcDir))) &&
    (await exists(join(outDir, entry.file))) &&
    (entry.externalData === undefined || (await exists(join(outDir, entry.externalData))));
  if (current && present) {
    const check = await checkWeights(current.weights, weightsFile);
    if (check.state === 'fresh') return { meta: current };
    if (check.state === 'touched') {
      const meta = { ...current, weights: check.stamp };
      await writeConvertedMetadata(outDir, meta);
      return { meta };
    }
  }
  hooks.beforeConvert?.();
  const converted = await convertCheckpoint(srcDir, outDir, options, hooks.source ?? srcDir);
  const meta = await readConvertedMetadata(outDir);
  if (!meta) throw new ModelFileError(outDir, 'conversion wrote no corom.json');
  return { meta, converted };
}
