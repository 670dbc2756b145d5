/**
 * The ranker: tokenizer + pair-scoring backend, with ModelScope's text-ranking pipeline semantics
 * on top (`{source_sentence: [query], sentences_to_compare: [...]}` -> `{scores}`, sigmoid of the
 * logits, input order). Runtime-neutral (Node and Workers): it only sees the PairScorer interface.
 */
import { UsageError } from '../errors.js';
import type { WordPieceTokenizer } from '../tokenizer/wordpiece.js';
import type { PairScorer, RankerInfo, RankingInput, RankingOutput, TokenPair } from './types.js';

export class Ranker {
  constructor(
    readonly tokenizer: WordPieceTokenizer,
    readonly scorer: PairScorer,
  ) {}

  get info(): RankerInfo {
    return this.scorer.info;
  }

  /** `[CLS] query [SEP] passage [SEP]` per passage, longest_first-truncated to the model's max length. */
  tokenizePairs(query: string, passages: readonly string[]): TokenPair[] {
    const maxLength = this.info.maxLength;
    return passages.map((p) => this.tokenizer.encodePair(query, p, maxLength));
  }

  /** Logits of already tokenized pairs, in input order (batched by length like the embedder). */
  scorePairs(pairs: readonly TokenPair[]): Promise<Float32Array> {
    const { maxLength, vocabSize } = this.info;
    pairs.forEach((p, i) => {
      if (!(p.ids instanceof Int32Array) || !(p.typeIds instanceof Int32Array)) throw new UsageError(`pair ${i}: ids and typeIds must be Int32Arrays`);
      if (p.ids.length !== p.typeIds.length) throw new UsageError(`pair ${i}: ${p.ids.length} ids but ${p.typeIds.length} type ids`);
      if (p.ids.length === 0 || p.ids.length > maxLength) throw new UsageError(`pair ${i}: ${p.ids.length} tokens (must be 1..${maxLength})`);
      for (const id of p.ids) if (id < 0 || id >= vocabSize) throw new UsageError(`pair ${i}: token id ${id} is outside the vocabulary (0..${vocabSize - 1})`);
      for (const t of p.typeIds) if (t !== 0 && t !== 1) throw new UsageError(`pair ${i}: token type id ${t} (must be 0 or 1)`);
    });
    if (pairs.length === 0) return Promise.resolve(new Float32Array(0));
    return this.scorer.scoreTokens(pairs);
  }

  /** Scores (sigmoid of the logits) and logits of each passage against the query, in input order. */
  async rank(query: string, passages: readonly string[]): Promise<RankingOutput> {
    const logits = Array.from(await this.scorePairs(this.tokenizePairs(query, passages)));
    return { scores: logits.map(sigmoid), logits };
  }

  /**
   * ModelScope's text-ranking pipeline: the one query of `source_sentence` against every
   * `sentences_to_compare`; `{scores}` in input order (logits too, for callers that want them).
   */
  pipeline(input: RankingInput): Promise<RankingOutput> {
    return this.rank(input.source_sentence[0]!, input.sentences_to_compare);
  }

  close(): Promise<void> {
    return this.scorer.close();
  }
}

export function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}
