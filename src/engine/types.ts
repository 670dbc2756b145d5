/**
 * Shared contracts of the engine. Everything above the engine (HTTP service, Worker, LangChain,
 * evaluation) talks to these types only, never to onnxruntime directly -- the TEI split of
 * http / core / backends.
 */

/** Weight formats the converter writes. */
export type Dtype = 'fp32' | 'int8' | 'q4';
export const DTYPES: readonly Dtype[] = ['fp32', 'int8', 'q4'];

/** onnxruntime-node (native, threads) or onnxruntime-web (WASM, one thread). */
export type BackendName = 'node' | 'wasm';
export const BACKENDS: readonly BackendName[] = ['node', 'wasm'];

/**
 * What a model does: `embedding` (a bi-encoder giving sentence vectors) or `rerank` (a
 * cross-encoder giving one relevance logit per (query, passage) pair). Written to corom.json as
 * `task`; a folder converted before rankers existed is an embedding model.
 */
export type ModelKind = 'embedding' | 'rerank';
export const MODEL_KINDS: readonly ModelKind[] = ['embedding', 'rerank'];

/** How the encoder's last hidden layer becomes one vector. coROM uses the raw [CLS] row. */
export type Pooling = 'cls' | 'mean';

/** What a loaded model is; served by /v1/models and /info. */
export interface ModelInfo {
  /** Served model id, e.g. "corom-base" or the folder name. */
  id: string;
  /** Output vector size (hidden size). */
  dimensions: number;
  /** Longest input in tokens, [CLS] and [SEP] included (128 for coROM). */
  maxLength: number;
  pooling: Pooling;
  dtype: Dtype;
  /** Backend label, e.g. "onnxruntime-node/cpu" or "onnxruntime-web/wasm". */
  backend: string;
  vocabSize: number;
}

/**
 * A backend that turns token ids into pooled vectors. Inputs are complete sequences
 * ([CLS] ... [SEP], already truncated); outputs are raw (not normalized), in input order.
 */
export interface Embedder {
  readonly info: ModelInfo;
  embedTokens(inputs: readonly Int32Array[]): Promise<Float32Array[]>;
  close(): Promise<void>;
}

/** The ModelScope sentence-embedding pipeline input (`damo/nlp_corom_sentence-embedding_*`). */
export interface PipelineInput {
  source_sentence: string[];
  sentences_to_compare?: string[];
}

/** The ModelScope pipeline output: raw vectors (sources then compared), dot products with the first. */
export interface PipelineOutput {
  text_embedding: number[][];
  scores: number[];
}

/** What a loaded ranker is (the same description as an embedder; its output is one logit per pair). */
export interface RankerInfo extends Omit<ModelInfo, 'dimensions' | 'pooling'> {
  kind: 'rerank';
  /** Hidden size of the encoder. */
  hidden: number;
}

/** One tokenized (query, passage) pair: `[CLS] q [SEP] p [SEP]` ids and type ids (0 then 1), same length. */
export interface TokenPair {
  ids: Int32Array;
  typeIds: Int32Array;
}

/**
 * A backend that turns tokenized pairs into relevance logits (before the sigmoid), in input order.
 * Inputs are complete, already truncated.
 */
export interface PairScorer {
  readonly info: RankerInfo;
  scoreTokens(pairs: readonly TokenPair[]): Promise<Float32Array>;
  close(): Promise<void>;
}

/** ModelScope's text-ranking pipeline input (`damo/nlp_corom_passage-ranking_*`). */
export interface RankingInput {
  source_sentence: string[];
  sentences_to_compare: string[];
}

/** `scores` = sigmoid(logit) per passage, in input order (the pipeline's output); `logits` the raw values. */
export interface RankingOutput {
  scores: number[];
  logits: number[];
}
