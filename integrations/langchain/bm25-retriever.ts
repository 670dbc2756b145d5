/**
 * BM25 for LangChain.js over Chinese (and mixed) text, no segmenter needed: the same index and
 * CJK unigram+bigram terms that `corom eval --retriever bm25` measures (src/retrieval/bm25.ts).
 *
 *   const retriever = CoromBM25Retriever.fromDocuments(docs, { k: 4 });
 *   const top = await retriever.invoke('北京的天气');
 */
import type { CallbackManagerForRetrieverRun } from '@langchain/core/callbacks/manager';
import type { DocumentInterface } from '@langchain/core/documents';
import { BaseRetriever, type BaseRetrieverInput } from '@langchain/core/retrievers';
import { BM25Index } from '../../src/retrieval/bm25.js';

export interface CoromBM25Options {
  /** Documents returned per query; default 4. */
  k?: number;
  /** BM25 term-frequency saturation; default 1.2. */
  k1?: number;
  /** BM25 length normalisation, 0..1; default 0.75. */
  b?: number;
}

export interface CoromBM25RetrieverInput extends BaseRetrieverInput, CoromBM25Options {
  docs: DocumentInterface[];
}

function checkK(k: number): number {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a positive integer, got ${k}`);
  return k;
}

export class CoromBM25Retriever extends BaseRetriever {
  static override lc_name(): string {
    return 'CoromBM25Retriever';
  }

  override lc_namespace = ['corom_edge', 'retrievers', 'bm25'];

  k: number;
  readonly docs: DocumentInterface[];
  private readonly index: BM25Index;

  constructor(fields: CoromBM25RetrieverInput) {
    super(fields);
    this.k = checkK(fields.k ?? 4);
    this.docs = [...fields.docs];
    this.index = BM25Index.build(
      this.docs.map((d) => d.pageContent),
      { ...(fields.k1 !== undefined ? { k1: fields.k1 } : {}), ...(fields.b !== undefined ? { b: fields.b } : {}) },
    );
  }

  static fromDocuments(docs: DocumentInterface[], options: CoromBM25Options & BaseRetrieverInput = {}): CoromBM25Retriever {
    return new CoromBM25Retriever({ ...options, docs });
  }

  /**
   * The best documents with their BM25 scores, best first; at most `k` (default this.k). Only
   * documents sharing at least one term with the query are returned. Equal scores keep the order the
   * documents were given in.
   */
  searchWithScores(query: string, k = this.k): [DocumentInterface, number][] {
    const top = this.index.search(query, checkK(k));
    return Array.from(top.indices, (i, r) => [this.docs[i]!, top.scores[r]!]);
  }

  override async _getRelevantDocuments(query: string, _runManager?: CallbackManagerForRetrieverRun): Promise<DocumentInterface[]> {
    return this.searchWithScores(query).map(([doc]) => doc);
  }
}
