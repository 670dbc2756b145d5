/**
 * What the HTTP service serves. Two kinds of backend fit behind the same routes:
 *
 * - a TokenModel tokenizes in-process and embeds token ids (the Engine, on Node or in a Worker
 *   with onnxruntime-web). Token-id input, `/tokenize` and token-budget batching work for it.
 * - a TextModel only takes text (a Worker proxying to an origin or to Workers AI). Token-id input
 *   and `/tokenize` answer 400 for it; batching budgets use an estimated length.
 *
 * Vectors crossing this boundary are raw (not normalized), in input order; the service does
 * normalization, `dimensions` truncation and encoding itself, so every backend behaves alike.
 */
import type { ModelInfo } from '../engine/types.js';

interface ServedModelBase {
  /** `info.id` is the id clients put in `model`. */
  readonly info: ModelInfo;
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
  embedTokens(sequences: readonly Int32Array[]): Promise<Float32Array[]>;
}

export interface TextEmbeddings {
  /** Raw vectors in input order (as raw as the backend can give them). */
  vectors: Float32Array[];
  /** Tokens each text used after truncation ([CLS]/[SEP] included); an estimate if the backend does not say. */
  tokenCounts: number[];
}

export interface TextModel extends ServedModelBase {
  readonly kind: 'text';
  embedTexts(texts: readonly string[]): Promise<TextEmbeddings>;
}

export type ServedModel = TokenModel | TextModel;

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

/** Serves an in-process Engine, optionally under another id than `engine.info.id`. */
export function servedEngine(engine: EngineLike, options: { id?: string } = {}): TokenModel {
  const info: ModelInfo = options.id ? { ...engine.info, id: options.id } : engine.info;
  return {
    kind: 'tokens',
    info,
    special: { cls: engine.tokenizer.clsId, sep: engine.tokenizer.sepId },
    tokenize: (texts) => engine.tokenize(texts),
    tokenStrings: (ids) => Array.from(ids, (id) => engine.tokenizer.idToToken(id) ?? '[UNK]'),
    embedTokens: (sequences) => engine.embedTokens(sequences),
  };
}
