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
