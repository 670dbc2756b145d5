/**
 * Hybrid retrieval for LangChain.js: a BM25 retriever (usually CoromBM25Retriever) and any dense
 * retriever (e.g. `vectorStore.asRetriever(20)` over CoromEmbeddings) fused by reciprocal rank
 * fusion, the same fusion `corom eval --retriever hybrid` measures (src/retrieval/fusion.ts).
 *
 *   const hybrid = new CoromHybridRetriever({ bm25, dense: store.asRetriever(20), k: 5 });
 *
 * Documents are matched across the two lists by `key` (default: pageContent), since a vector store
 * returns its own Document objects. Equal fused scores keep BM25's order, then the dense order.
 */
import type { CallbackManagerForRetrieverRun } from '@langchain/core/callbacks/manager';
import type { DocumentInterface } from '@langchain/core/documents';
import { BaseRetriever, type BaseRetrieverInput, type BaseRetrieverInterface } from '@langchain/core/retrievers';
import { DEFAULT_RRF_K, reciprocalRankFusion } from '../../src/retrieval/fusion.js';

export interface CoromHybridRetrieverInput extends BaseRetrieverInput {
  /** The lexical side, e.g. CoromBM25Retriever.fromDocuments(docs, { k: 20 }). */
  bm25: BaseRetrieverInterface;
  /** The dense side: any retriever, e.g. a vector store's asRetriever(). */
  dense: BaseRetrieverInterface;
  /** Documents returned; default 4. Ask both sides for more than this so fusion has room. */
  k?: number;
  /** The k of 1/(k + rank); default 60. */
  rrfK?: number;
  /** Weights of the BM25 and dense rankings; default [1, 1]. */
  weights?: [number, number];
  /** Identity of a document across the two lists; default its pageContent. */
  key?: (doc: DocumentInterface) => string;
}

export class CoromHybridRetriever extends BaseRetriever {
  static override lc_name(): string {
    return 'CoromHybridRetriever';
  }

  override lc_namespace = ['corom_edge', 'retrievers', 'hybrid'];

  readonly bm25: BaseRetrieverInterface;
  readonly dense: BaseRetrieverInterface;
  k: number;
  rrfK: number;
  weights: [number, number];
  private readonly key: (doc: DocumentInterface) => string;

  constructor(fields: CoromHybridRetrieverInput) {
    super(fields);
    this.bm25 = fields.bm25;
    this.dense = fields.dense;
    this.k = fields.k ?? 4;
    if (!Number.isInteger(this.k) || this.k < 1) throw new RangeError(`k must be a positive integer, got ${this.k}`);
    this.rrfK = fields.rrfK ?? DEFAULT_RRF_K;
    if (!Number.isFinite(this.rrfK) || this.rrfK < 0) throw new RangeError(`rrfK must be a finite number >= 0, got ${this.rrfK}`);
    this.weights = fields.weights ?? [1, 1];
    if (this.weights.length !== 2 || this.weights.some((w) => !Number.isFinite(w) || w < 0)) {
      throw new RangeError('weights must be two finite numbers >= 0 (BM25, dense)');
    }
    this.key = fields.key ?? ((doc) => doc.pageContent);
  }

  override async _getRelevantDocuments(query: string, runManager?: CallbackManagerForRetrieverRun): Promise<DocumentInterface[]> {
    const [lexical, semantic] = await Promise.all([
      this.bm25.invoke(query, { callbacks: runManager?.getChild('bm25') }),
      this.dense.invoke(query, { callbacks: runManager?.getChild('dense') }),
    ]);
    // Number the distinct documents in order of first appearance (BM25 first): that number is the
    // tie-break order, and each list becomes a ranking of numbers with repeats dropped.
    const idOf = new Map<string, number>();
    const documents: DocumentInterface[] = [];
    const toRanking = (docs: DocumentInterface[]): number[] => {
      const seen = new Set<number>();
      const ranking: number[] = [];
      for (const doc of docs) {
        const key = this.key(doc);
        let id = idOf.get(key);
        if (id === undefined) {
          id = documents.length;
          idOf.set(key, id);
          documents.push(doc);
        }
        if (!seen.has(id)) {
          seen.add(id);
          ranking.push(id);
        }
      }
      return ranking;
    };
    const rankings = [toRanking(lexical), toRanking(semantic)];
    const fused = reciprocalRankFusion(rankings, this.k, { k: this.rrfK, weights: this.weights });
    return Array.from(fused.indices, (id) => documents[id]!);
  }
}
