/**
 * The model store's contract: what a converted folder holds and how its files are named. Pure
 * types and names (no node:fs), so the Worker, which reads the same folder out of R2, imports it
 * too. Reading and writing live in ./files.ts, conversion in ./convert.ts.
 */
import type { Dtype, ModelKind, Pooling } from '../engine/types.js';
import type { ShardSet } from './shard-metadata.js';

// The shard types are part of this contract: the Worker reads them from corom.json in R2.
export type { ShardMetadata, ShardSet } from './shard-metadata.js';

export const METADATA_FILE = 'corom.json';
/** Longest input in tokens when a conversion is not told otherwise: the ModelScope pipeline's. */
export const DEFAULT_MAX_LENGTH = 128;

/** The graph file of one dtype. */
export function modelFileName(dtype: Dtype): string {
  return `model.${dtype}.onnx`;
}

/** The ONNX external-data file beside a graph file (written when the weights live outside it). */
export function externalDataFileName(dtype: Dtype): string {
  return `${modelFileName(dtype)}.data`;
}

/**
 * The source weights a conversion was made from (see ./stamp.ts for how staleness is decided):
 * the weights file's name, size and modification time when it was converted, and its sha256.
 */
export interface WeightsStamp {
  file: string;
  size: number;
  mtimeMs: number;
  sha256: string;
}

/** corom.json: what a converted folder holds, read by the runtime, `corom models` and the Worker. */
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
  /**
   * The model's kind: `embedding` (output `sentence_embedding`) or `rerank` (output `logits`
   * [batch], a cross-encoder over `[CLS] query [SEP] passage [SEP]` with real token type ids).
   * Absent in folders converted before rankers existed: those are embedding models.
   */
  task?: ModelKind;
  /** Where the weights came from, for people: a hub id@revision or the checkpoint folder. */
  source?: string;
  /** The weights the dtypes below were converted from; absent in folders written before it existed. */
  weights?: WeightsStamp;
  /** Per dtype: the graph file, total bytes (graph + weights), and the external weights file if any. */
  dtypes: Partial<Record<Dtype, { file: string; bytes: number; externalData?: string }>>;
  /**
   * Peak memory measured on the WASM backend by scripts/edge-memory.ts --record (WASM linear
   * memory + JS heap, largest allowed batch); a Worker refuses an artifact over its budget.
   */
  edge?: { dtype: Dtype; peakBytes: number; wasmBytes: number; jsBytes: number; batchRows: number; maxLength: number };
  /** Per dtype: the model split by layers into shards (`corom convert --shards N`, src/store/shards.ts). */
  shards?: Partial<Record<Dtype, ShardSet>>;
}

/** The minimal shape check every reader of corom.json applies before trusting it. */
export function looksLikeConvertedMetadata(value: unknown): value is ConvertedMetadata {
  const meta = value as Partial<ConvertedMetadata> | null;
  return typeof meta === 'object' && meta !== null && meta.format === 1 && typeof meta.hidden === 'number' && typeof meta.maxLength === 'number';
}

/** The kind of a converted folder's model (folders from before rankers are embedding models). */
export function convertedKind(meta: ConvertedMetadata): ModelKind {
  return meta.task ?? 'embedding';
}
