/**
 * The three retrievers `corom eval` compares, behind one interface: rank a set of the dataset's
 * queries against its whole collection, `depth` passages deep.
 */
import { BM25Index, type BM25Options } from '../retrieval/bm25.js';
import { denseTopK, type PassageVectors } from './dense-search.js';
import { embedPassages, embedQueries, type EmbeddedPassages, type EmbeddingEngine, type PassageEmbeddingOptions } from './dense-embedding.js';
import { DEFAULT_RRF_K, reciprocalRankFusion } from '../retrieval/fusion.js';
import { SILENT_PROGRESS, type Progress } from './progress.js';
import type { Ranking, RetrievalDataset } from './types.js';

export interface EvalRetriever {
  readonly name: string;
  /** Rankings (passage indices, best first) for the queries at `queryIndices`, in that order. */
  rank(queryIndices: readonly number[], depth: number): Promise<Ranking[]>;
}

export class BM25EvalRetriever implements EvalRetriever {
  readonly name = 'bm25';
  private index: BM25Index | undefined;

  constructor(
    private readonly dataset: RetrievalDataset,
    private readonly options: BM25Options & { progress?: Progress; fillWithUnmatched?: boolean } = {},
  ) {}

  /** Builds the index on first use; exposed for reports (vocabulary and posting counts). */
  getIndex(): BM25Index {
    this.index ??= BM25Index.build(this.dataset.passageTexts, this.options);
    return this.index;
  }

  async rank(queryIndices: readonly number[], depth: number): Promise<Ranking[]> {
    const index = this.getIndex();
    const progress = this.options.progress ?? SILENT_PROGRESS;
    const fill = this.options.fillWithUnmatched ?? true;
    const rankings: Ranking[] = [];
    progress.start('bm25 queries', queryIndices.length);
    try {
      for (const q of queryIndices) {
        rankings.push(index.search(this.dataset.queryTexts[q]!, depth, { fillWithUnmatched: fill }).indices);
        if (rankings.length % 256 === 0) progress.update(rankings.length);
      }
      progress.update(rankings.length);
    } finally {
      progress.stop();
    }
    return rankings;
  }
}

export class DenseEvalRetriever implements EvalRetriever {
  readonly name = 'dense';
  private passages: EmbeddedPassages | undefined;

  constructor(
    private readonly dataset: RetrievalDataset,
    private readonly engine: EmbeddingEngine,
    private readonly options: PassageEmbeddingOptions = {},
  ) {}

  async passageVectors(): Promise<PassageVectors> {
    this.passages ??= await embedPassages(this.engine, this.dataset.passageTexts, this.options);
    return this.passages;
  }

  /** Collection size, vector count (windows) and how many passages the cache supplied; zeros before rank(). */
  get stats(): { passages: number; vectors: number; fromCache: number } {
    const p = this.passages;
    return { passages: p ? p.starts.length - 1 : 0, vectors: p ? p.vectors.rows : 0, fromCache: p?.fromCache ?? 0 };
  }

  async rank(queryIndices: readonly number[], depth: number): Promise<Ranking[]> {
    const passages = await this.passageVectors();
    const queries = await embedQueries(this.engine, queryIndices.map((q) => this.dataset.queryTexts[q]!), { progress: this.options.progress });
    return denseTopK(queries, passages, depth).map((top) => top.indices);
  }
}

/** BM25 and dense fused by reciprocal rank fusion. BM25 contributes only passages sharing a term with the query. */
export class HybridEvalRetriever implements EvalRetriever {
  readonly name = 'hybrid';

  constructor(
    private readonly bm25: EvalRetriever,
    private readonly dense: EvalRetriever,
    private readonly rrfK = DEFAULT_RRF_K,
  ) {}

  async rank(queryIndices: readonly number[], depth: number): Promise<Ranking[]> {
    const lexical = await this.bm25.rank(queryIndices, depth);
    const semantic = await this.dense.rank(queryIndices, depth);
    return queryIndices.map((_, i) => reciprocalRankFusion([lexical[i]!, semantic[i]!], depth, { k: this.rrfK }).indices);
  }
}
