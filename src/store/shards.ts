/**
 * Checkpoint folder -> the model split by encoder layers into N shard graphs
 * (model.<dtype>.shard<k>of<N>.onnx, optionally also .ort) plus their description in corom.json
 * (`shards[dtype]`). Each shard is built by buildBertGraph with a layer range, so its weights are
 * quantized exactly as in the whole model: chained, the shards compute what model.<dtype>.onnx does.
 */
import { copyFile, mkdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { BertConfig } from '../checkpoint/bert-config.js';
import { exists, readBertConfig, readCheckpoint, readJsonFile } from '../checkpoint/read.js';
import type { Dtype, Pooling } from '../engine/types.js';
import { ModelFileError, UsageError } from '../errors.js';
import { buildBertGraph, OUTPUT_EMBEDDING, SHARD_INPUT_HIDDEN, SHARD_OUTPUT_HIDDEN } from '../onnx/bert-graph.js';
import { describe } from './convert.js';
import { atomicWrite, readConvertedMetadata, writeConvertedMetadata } from './files.js';
import { stampWeights } from './stamp.js';
import { DEFAULT_MAX_LENGTH, METADATA_FILE, type ConvertedMetadata } from './metadata.js';
import { evenLayerRanges, layerRangesAt, shardFileName, type ShardMetadata, type ShardSet, type ShardTensor } from './shard-metadata.js';

export interface ConvertShardsOptions {
  dtype?: Dtype;
  pooling?: Pooling;
  maxLength?: number;
  int8MaxLevel?: number;
  q4BlockSize?: number;
  /** Number of shards, split evenly by layers (default 2). Ignored when `splits` is given. */
  shards?: number;
  /** Explicit split points, e.g. [6] for layers [0, 6) and [6, 12). */
  splits?: number[];
  /** Also write each shard in onnxruntime's ORT format (via onnxruntime-node). */
  ortFormat?: boolean;
}

export interface ConvertShardsResult {
  set: ShardSet;
  paths: string[];
}

const COPIED_FILES = ['vocab.txt', 'config.json', 'tokenizer_config.json', 'special_tokens_map.json', 'configuration.json'];

/** The shard count or split points checked against the model: a clear RangeError otherwise. */
export function shardRanges(config: Pick<BertConfig, 'numLayers'>, options: Pick<ConvertShardsOptions, 'shards' | 'splits'>): [number, number][] {
  return options.splits ? layerRangesAt(config.numLayers, options.splits) : evenLayerRanges(config.numLayers, options.shards ?? 2);
}

export async function convertShards(srcDir: string, outDir: string, options: ConvertShardsOptions = {}, sourceStamp: string = srcDir): Promise<ConvertShardsResult> {
  const dtype = options.dtype ?? 'int8';
  const pooling = options.pooling ?? 'cls';
  if (!(await exists(join(srcDir, 'vocab.txt')))) throw new ModelFileError(join(srcDir, 'vocab.txt'), 'file not found');
  // The shard count is checked against the model before its weights are read.
  let ranges: [number, number][];
  try {
    ranges = shardRanges(await readBertConfig(srcDir), options);
  } catch (error) {
    if (error instanceof RangeError) throw new UsageError(error.message);
    throw error;
  }
  const { config, weights, weightFile } = await readCheckpoint(srcDir);
  const stamp = await stampWeights(weightFile);
  const maxLength = Math.min(options.maxLength ?? DEFAULT_MAX_LENGTH, config.maxPositions);
  await mkdir(outDir, { recursive: true });

  const shards: ShardMetadata[] = [];
  const paths: string[] = [];
  for (const [index, [start, end]] of ranges.entries()) {
    const graph = buildBertGraph(config, weights, {
      dtype,
      pooling,
      ...(options.int8MaxLevel !== undefined ? { int8MaxLevel: options.int8MaxLevel } : {}),
      ...(options.q4BlockSize !== undefined ? { q4BlockSize: options.q4BlockSize } : {}),
      exposeHiddenState: false,
      layerRange: { start, end },
    });
    const file = shardFileName(dtype, index, ranges.length);
    const bytes = graph.serialize({
      'corom.pooling': pooling,
      'corom.dtype': dtype,
      'corom.max_length': String(maxLength),
      'corom.shard': `${index + 1}/${ranges.length}`,
      'corom.layers': `${start}-${end}`,
    });
    await atomicWrite(join(outDir, file), bytes);
    paths.push(join(outDir, file));
    const shard: ShardMetadata = { index, file, bytes: bytes.byteLength, layers: [start, end], ...shardInterface(config.hiddenSize, start === 0, end === config.numLayers) };
    if (options.ortFormat) {
      const ortFile = shardFileName(dtype, index, ranges.length, 'ort');
      await writeOrtFormat(join(outDir, file), join(outDir, ortFile));
      shard.ortFile = ortFile;
      shard.ortBytes = (await stat(join(outDir, ortFile))).size;
      paths.push(join(outDir, ortFile));
    } else {
      await rm(join(outDir, shardFileName(dtype, index, ranges.length, 'ort')), { force: true });
    }
    shards.push(shard);
  }

  if (srcDir !== outDir) {
    for (const name of COPIED_FILES) {
      if (await exists(join(srcDir, name))) await copyFile(join(srcDir, name), join(outDir, name));
    }
  }
  const set: ShardSet = { dtype, count: ranges.length, shards };
  const metaPath = join(outDir, METADATA_FILE);
  const previous = await readConvertedMetadata(outDir).catch(() => undefined);
  // Same rule as convertCheckpoint: what the folder holds stays listed only if it came from the same weights.
  const same = previous?.pooling === pooling && previous.weights?.sha256 === stamp.sha256 && previous.maxLength === maxLength;
  const meta: ConvertedMetadata = {
    ...describe(config, maxLength, pooling),
    ...(previous?.task ? { task: previous.task } : {}),
    source: sourceStamp,
    weights: stamp,
    dtypes: same ? previous.dtypes : {},
    ...(same && previous.edge ? { edge: previous.edge } : {}),
    // A re-converted shard set replaces the old one of its dtype, measurements included.
    shards: { ...(same ? previous.shards : {}), [dtype]: set },
  };
  await writeConvertedMetadata(outDir, meta);
  return { set, paths };
}

/** The inputs and outputs of a shard, as buildBertGraph emits them for its layer range. */
export function shardInterface(hidden: number, first: boolean, last: boolean): { inputs: ShardTensor[]; outputs: ShardTensor[] } {
  const ids = (name: string): ShardTensor => ({ name, type: 'int64', shape: ['batch', 'sequence'] });
  const inputs = first ? [ids('input_ids'), ids('attention_mask'), ids('token_type_ids')] : [{ name: SHARD_INPUT_HIDDEN, type: 'float32' as const, shape: ['batch', 'sequence', hidden] }, ids('attention_mask')];
  const outputs: ShardTensor[] = last ? [{ name: OUTPUT_EMBEDDING, type: 'float32', shape: ['batch', hidden] }] : [{ name: SHARD_OUTPUT_HIDDEN, type: 'float32', shape: ['batch', 'sequence', hidden] }];
  return { inputs, outputs };
}

/**
 * Saves `onnxPath` in onnxruntime's ORT format with onnxruntime-node (same release as
 * onnxruntime-web). Only basic (provider-independent) optimizations are applied, so the file
 * holds nothing specific to this machine's CPU.
 */
async function writeOrtFormat(onnxPath: string, ortPath: string): Promise<void> {
  const ort = await import('onnxruntime-node');
  const tmp = `${ortPath}.tmp-${process.pid}`;
  const session = await ort.InferenceSession.create(await readFile(onnxPath), {
    graphOptimizationLevel: 'basic',
    optimizedModelFilePath: tmp,
    extra: { session: { save_model_format: 'ORT' } },
  });
  await session.release();
  await atomicWrite(ortPath, await readFile(tmp));
  await rm(tmp, { force: true });
}
