/**
 * One served cross-encoder ranker and its queue: a RankingRunner tokenizes (query, passage) pairs
 * and scores them through the same DynamicBatcher (same limits: padded tokens = rows x longest
 * pair, rows per batch, queue bound, deadline, abort) as an EmbeddingRunner. A request's pairs may
 * share batches with other requests' pairs; its logits come back in its own order with the backend
 * labels that computed them. Failures are the core's typed errors, already naming the model.
 */
import type { TokenPair } from '../engine/types.js';
import { DynamicBatcher, type BatchReport, type BatcherConfig } from './batcher.js';
import { BatchedRunner, backendsInOrder, batcherOptions, type SubmitOptions } from './batched-runner.js';
import type { RankingModel } from './served-model.js';

export interface RankResult {
  /** Relevance logits (before the sigmoid), one per passage, in input order. */
  logits: number[];
  /** Tokens of each pair after truncation ([CLS] and both [SEP]s included). */
  tokenCounts: number[];
  /** Backend labels of the batches that answered, each once, in order of first use. */
  backends: string[];
}

type Scored = { logit: number; tokens: number; backend: string };

export class RankingRunner extends BatchedRunner {
  readonly task = 'rerank' as const;
  readonly model: RankingModel;
  /** Pairs are tokenized in-process; token-id input is not a thing for a ranker. */
  readonly acceptsTokenIds = false;
  protected readonly batcher: DynamicBatcher<TokenPair, Scored>;

  constructor(model: RankingModel, config: BatcherConfig, onBatch: (report: BatchReport) => void) {
    super();
    this.model = model;
    this.batcher = new DynamicBatcher<TokenPair, Scored>(config, {
      run: (pairs) => scoreBatch(model, pairs),
      lengthOf: (pair) => pair.ids.length,
      onBatch,
      owner: model.info.id,
    });
  }

  get id(): string {
    return this.model.info.id;
  }

  /** The logit of each passage against the query, in input order. */
  async rank(query: string, passages: readonly string[], options: SubmitOptions): Promise<RankResult> {
    this.admitOrThrow();
    const pairs = this.model.tokenizePairs(query, passages);
    const outputs = await this.batcher.submit(pairs, batcherOptions(options));
    return { logits: outputs.map((o) => o.logit), tokenCounts: outputs.map((o) => o.tokens), backends: backendsInOrder(outputs) };
  }
}

async function scoreBatch(model: RankingModel, pairs: TokenPair[]): Promise<Scored[]> {
  const { logits, backend } = await model.scorePairs(pairs);
  if (!(logits instanceof Float32Array) || logits.length !== pairs.length) {
    throw new Error(`model ${model.info.id} returned ${logits instanceof Float32Array ? logits.length : typeof logits} logits for ${pairs.length} pairs`);
  }
  return pairs.map((pair, i) => ({ logit: logits[i]!, tokens: pair.ids.length, backend }));
}
