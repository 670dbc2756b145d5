/**
 * Checkpoint folder -> converted folder: model.<dtype>.onnx, vocab.txt, config.json,
 * tokenizer_config.json (when present) and corom.json, the metadata the runtime reads.
 */
import { copyFile, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readCheckpoint, exists, readJsonFile } from '../checkpoint/read.js';
import type { BertConfig } from '../checkpoint/bert-config.js';
import { ModelFileError } from '../errors.js';
import type { Dtype, Pooling } from '../engine/types.js';
import { buildBertGraph } from './bert-graph.js';
import type { ShardSet } from './shard-metadata.js';

export interface ConvertOptions {
  dtype?: Dtype;
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
}

/** corom.json: what a converted folder holds, read by the runtime and `corom models`. */
export interface ConvertedMetadata {
  format: 1;
  hidden: number;
  layers: number;
  heads: number;
  intermediate: number;
  vocabSize: number;
  maxPositions: number;
  maxLength: number;
  pooling: Pooling;
  source?: string;
  /** Per dtype: the graph file, total bytes (graph + weights), and the external weights file if any. */
  dtypes: Partial<Record<Dtype, { file: string; bytes: number; externalData?: string }>>;
  /**
   * Peak memory measured on the WASM backend by scripts/edge-memory.ts --record (WASM linear
   * memory + JS heap, largest allowed batch); a Worker refuses an artifact over its budget.
   */
  edge?: { dtype: Dtype; peakBytes: number; wasmBytes: number; jsBytes: number; batchRows: number; maxLength: number };
  /** Per dtype: the model split by layers into shards (`corom convert --shards N`, src/onnx/shards.ts). */
  shards?: Partial<Record<Dtype, ShardSet>>;
}

export const METADATA_FILE = 'corom.json';
export const DEFAULT_MAX_LENGTH = 128;

export function modelFileName(dtype: Dtype): string {
  return `model.${dtype}.onnx`;
}

const COPIED_FILES = ['vocab.txt', 'config.json', 'tokenizer_config.json', 'special_tokens_map.json', 'configuration.json'];

/**
 * `sourceStamp` is recorded in corom.json as `source` (default: the source folder) so that a cache
 * of converted checkpoints can tell when the weights changed.
 */
export async function convertCheckpoint(srcDir: string, outDir: string, options: ConvertOptions = {}, sourceStamp: string = srcDir): Promise<ConvertResult> {
  const dtype = options.dtype ?? 'fp32';
  const pooling = options.pooling ?? 'cls';
  if (!(await exists(join(srcDir, 'vocab.txt')))) throw new ModelFileError(join(srcDir, 'vocab.txt'), 'file not found');
  const { config, weights } = await readCheckpoint(srcDir);
  const maxLength = Math.min(options.maxLength ?? DEFAULT_MAX_LENGTH, config.maxPositions);

  const graph = buildBertGraph(config, weights, {
    dtype,
    pooling,
    ...(options.int8MaxLevel !== undefined ? { int8MaxLevel: options.int8MaxLevel } : {}),
    ...(options.q4BlockSize !== undefined ? { q4BlockSize: options.q4BlockSize } : {}),
    exposeHiddenState: options.hiddenStateOutput ?? dtype !== 'q4',
  });
  const metadata = { 'corom.pooling': pooling, 'corom.dtype': dtype, 'corom.max_length': String(maxLength) };
  const file = modelFileName(dtype);
  const dataFile = `${file}.data`;
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
  const metaPath = join(outDir, METADATA_FILE);
  const previous = (await exists(metaPath)) ? ((await readJsonFile(metaPath)) as ConvertedMetadata) : undefined;
  const meta: ConvertedMetadata = {
    ...describe(config, maxLength, pooling),
    source: sourceStamp,
    dtypes: { ...(previous?.pooling === pooling && previous.source === sourceStamp ? previous.dtypes : {}), [dtype]: { file, bytes, ...(serialized.data ? { externalData: dataFile } : {}) } },
    // A re-converted artifact invalidates the memory measured for it.
    ...(previous?.edge && previous.edge.dtype !== dtype && previous.source === sourceStamp ? { edge: previous.edge } : {}),
    // Shard sets are written by convertShards from the same weights; keep them while those hold.
    ...(previous?.shards && previous.pooling === pooling && previous.source === sourceStamp ? { shards: previous.shards } : {}),
  };
  await atomicWrite(metaPath, new TextEncoder().encode(JSON.stringify(meta, null, 2) + '\n'));
  return { modelPath, bytes, dtype };
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

/** Writes next to the target then renames, so a crash never leaves a file that looks complete. */
export async function atomicWrite(path: string, data: Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

export async function readConvertedMetadata(dir: string): Promise<ConvertedMetadata | undefined> {
  const path = join(dir, METADATA_FILE);
  if (!(await exists(path))) return undefined;
  const meta = (await readJsonFile(path)) as ConvertedMetadata;
  if (meta?.format !== 1 || typeof meta.hidden !== 'number' || typeof meta.maxLength !== 'number') {
    throw new ModelFileError(path, 'not a corom.json this version understands');
  }
  return meta;
}

