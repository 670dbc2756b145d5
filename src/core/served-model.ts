/**
 * What the service serves: the contract between the core (queue and batching, src/core) and the
 * backends that compute (an in-process Engine, a Worker's isolate / origins / cache, Workers AI).
 * No Hono, no status codes here: HTTP (src/http) maps core results to responses.
 *
 * Two input kinds fit behind the same routes:
 * - a TokenModel tokenizes in-process and embeds token ids (the Engine, on Node or in a Worker
 *   with onnxruntime-web, or a Worker backend that sends the same token ids to an origin).
 *   Token-id input, `/tokenize` and token-budget batching work for it.
 * - a TextModel only takes text (Workers AI). Token-id input and `/tokenize` are refused for it;
 *   batching budgets use an estimated length.
 *
 * Every batch says which backend computed it (`backend`, e.g. "onnxruntime-node/cpu",
 * "origin:https://gpu1.example.com", "wasm", "workers-ai"): the core hands the labels of the batches
 * that served a request back with its result, and HTTP reports them (`x-corom-backend`, /metrics).
 *
 * Vectors crossing this boundary are raw (not normalized), in input order; the service does
 * normalization, `dimensions` truncation and encoding itself, so every backend behaves alike.
 */
import type { ModelInfo, RankerInfo, TokenPair } from '../engine/types.js';

interface ServedModelBase {
  /** `info.id` is the id clients put in `model`. */
  readonly info: ModelInfo;
}

/** One batch's raw vectors, in input order, and who computed them. */
export interface EmbeddedBatch {
  vectors: Float32Array[];
  /** Backend label of this batch. */
  backend: string;
}

export interface TokenModel extends ServedModelBase {
  readonly kind: 'tokens';
  /** Special token ids; token-id input is wrapped as [CLS] ... [SEP] with these. */
  readonly special: { readonly cls: number; readonly sep: number };
  /** Complete sequences ([CLS] ... [SEP]), truncated to `info.maxLength`, one per text. */
  tokenize(texts: readonly string[]): Int32Array[];
  /** Vocabulary strings for ids, for `/tokenize`. */
  tokenStrings(ids: Int32Array): string[];
  /** Raw pooled vectors for complete sequences, in input order. */
  embedTokens(sequences: readonly Int32Array[]): Promise<EmbeddedBatch>;
}

export interface TextEmbeddings extends EmbeddedBatch {
  /** Tokens each text used after truncation ([CLS]/[SEP] included); an estimate if the backend does not say. */
  tokenCounts: number[];
}

export interface TextModel extends ServedModelBase {
  readonly kind: 'text';
  embedTexts(texts: readonly string[]): Promise<TextEmbeddings>;
}

/** A model that embeds (task `embedding`): token ids or text in, vectors out. */
export type EmbeddingModel = TokenModel | TextModel;

/** One batch's relevance logits (before the sigmoid), in input order, and who computed them. */
export interface ScoredBatch {
  logits: Float32Array;
  /** Backend label of this batch. */
  backend: string;
}

/**
 * A cross-encoder ranker (task `rerank`): reads a query and a passage together and gives one
 * relevance logit per pair. It tokenizes in-process (`[CLS] q [SEP] p [SEP]`, type ids 0 then 1,
 * longest_first-truncated to `info.maxLength`), so pairs are batched by their padded length like
 * embedding sequences; `scorePairs` may run anywhere (the isolate, an origin).
 */
export interface RankingModel {
  readonly task: 'rerank';
  /** `info.id` is the id clients put in `model`. */
  readonly info: RankerInfo;
  /** One complete pair per passage, in input order. */
  tokenizePairs(query: string, passages: readonly string[]): TokenPair[];
  /** Raw logits of complete pairs, in input order. */
  scorePairs(pairs: readonly TokenPair[]): Promise<ScoredBatch>;
}

export type ServedModel = EmbeddingModel | RankingModel;

/** True for a ranker (the registry's `taskOf` and hosts that treat the two kinds differently). */
export function isRankingModel(model: ServedModel): model is RankingModel {
  return (model as { task?: unknown }).task === 'rerank';
}

/** What servedRanker needs from a Ranker (src/engine/ranker.ts); structural like EngineLike. */
export interface RankerLike {
  readonly info: RankerInfo;
  tokenizePairs(query: string, passages: readonly string[]): TokenPair[];
  scorePairs(pairs: readonly TokenPair[]): Promise<Float32Array>;
}

/** Serves an in-process Ranker, optionally under another id or backend label. The owner closes it. */
export function servedRanker(ranker: RankerLike, options: { id?: string; backend?: string } = {}): RankingModel {
  const info: RankerInfo = options.id ? { ...ranker.info, id: options.id } : ranker.info;
  const backend = options.backend ?? ranker.info.backend;
  return {
    task: 'rerank',
    info,
    tokenizePairs: (query, passages) => ranker.tokenizePairs(query, passages),
    scorePairs: async (pairs) => ({ logits: await ranker.scorePairs(pairs), backend }),
  };
}

/**
 * What servedEngine needs from an Engine (src/engine/engine.ts); structural so this file stays
 * runtime-neutral. The owner of the engine closes it; the service never does.
 */
export interface EngineLike {
  readonly info: ModelInfo;
  readonly tokenizer: { readonly clsId: number; readonly sepId: number; idToToken(id: number): string | undefined };
  tokenize(texts: readonly string[]): Int32Array[];
  embedTokens(ids: readonly Int32Array[]): Promise<Float32Array[]>;
}

/** Serves an in-process Engine, optionally under another id than `engine.info.id` or another backend label. */
export function servedEngine(engine: EngineLike, options: { id?: string; backend?: string } = {}): TokenModel {
  const info: ModelInfo = options.id ? { ...engine.info, id: options.id } : engine.info;
  const backend = options.backend ?? engine.info.backend;
  return {
    kind: 'tokens',
    info,
    special: { cls: engine.tokenizer.clsId, sep: engine.tokenizer.sepId },
    tokenize: (texts) => engine.tokenize(texts),
    tokenStrings: (ids) => Array.from(ids, (id) => engine.tokenizer.idToToken(id) ?? '[UNK]'),
    embedTokens: async (sequences) => ({ vectors: await engine.embedTokens(sequences), backend }),
  };
}
