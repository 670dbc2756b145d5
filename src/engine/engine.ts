/**
 * The engine: tokenizer + embedding backend, with the ModelScope pipeline semantics on top.
 * Runtime-neutral (Node and Workers): it only sees the Embedder interface.
 */
import type { WordPieceTokenizer } from '../tokenizer/wordpiece.js';
import type { Embedder, ModelInfo, PipelineInput, PipelineOutput } from './types.js';
import { dot, normalized } from './vectors.js';

export class Engine {
  constructor(
    readonly tokenizer: WordPieceTokenizer,
    readonly embedder: Embedder,
  ) {}

  get info(): ModelInfo {
    return this.embedder.info;
  }

  /** [CLS] ... [SEP] ids, truncated to the model's max length (as the pipeline does). */
  tokenize(texts: readonly string[]): Int32Array[] {
    const maxLength = this.info.maxLength;
    return texts.map((t) => this.tokenizer.encode(t, maxLength));
  }

  embedTokens(ids: readonly Int32Array[]): Promise<Float32Array[]> {
    return this.embedder.embedTokens(ids);
  }

  /** Raw [CLS] (or mean) vectors in input order; unit-normalized when asked. */
  async embed(texts: readonly string[], options: { normalize?: boolean } = {}): Promise<Float32Array[]> {
    const vectors = await this.embedTokens(this.tokenize(texts));
    return options.normalize ? vectors.map(normalized) : vectors;
  }

  /**
   * ModelScope's sentence-embedding pipeline: every source sentence then every compared sentence,
   * as raw vectors, and the dot product of the first vector with each of the others.
   */
  async pipeline(input: PipelineInput): Promise<PipelineOutput> {
    const texts = [...input.source_sentence, ...(input.sentences_to_compare ?? [])];
    const vectors = await this.embed(texts);
    return pipelineOutput(vectors);
  }

  close(): Promise<void> {
    return this.embedder.close();
  }
}

/** The pipeline's `{text_embedding, scores}` from raw vectors (first one is the query). */
export function pipelineOutput(vectors: readonly Float32Array[]): PipelineOutput {
  const first = vectors[0];
  return {
    text_embedding: vectors.map((v) => Array.from(v)),
    scores: first ? vectors.slice(1).map((v) => dot(first, v)) : [],
  };
}
