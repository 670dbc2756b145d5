/** CoromBM25Retriever and CoromHybridRetriever with real LangChain Documents, retrievers and a vector store. */
import { MemoryVectorStore } from '@langchain/classic/vectorstores/memory';
import { Document, type DocumentInterface } from '@langchain/core/documents';
import { Embeddings } from '@langchain/core/embeddings';
import { BaseRetriever } from '@langchain/core/retrievers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoromBM25Retriever } from '../../integrations/langchain/bm25-retriever.js';
import { CoromHybridRetriever } from '../../integrations/langchain/hybrid-retriever.js';
import type { Engine } from '../../src/engine/engine.js';
import { loadEngine } from '../../src/engine/load.js';
import { convertedFixture } from '../helpers/fixture.js';

const DOCS = [
  new Document({ pageContent: '长城是中国古代的军事防御工程。', metadata: { source: 'a' } }),
  new Document({ pageContent: '熊猫主要以竹子为食，生活在四川。', metadata: { source: 'b' } }),
  new Document({ pageContent: '珠穆朗玛峰是世界最高峰。', metadata: { source: 'c' } }),
  new Document({ pageContent: '四川菜以麻辣著称。', metadata: { source: 'd' } }),
  new Document({ pageContent: 'Node.js 20 supports ES modules.', metadata: { source: 'e' } }),
];

/** A retriever that returns given documents in a fixed order: the dense side, with a known ranking. */
class FixedOrderRetriever extends BaseRetriever {
  override lc_namespace = ['test', 'fixed'];
  constructor(private readonly docs: DocumentInterface[]) {
    super();
  }
  override async _getRelevantDocuments(): Promise<DocumentInterface[]> {
    return this.docs.map((d) => new Document({ pageContent: d.pageContent, metadata: { fromDense: true } }));
  }
}

/** LangChain Embeddings over the project's engine (the fixture model: real inference, meaningless vectors). */
class EngineEmbeddings extends Embeddings {
  constructor(private readonly engine: Engine) {
    super({});
  }
  async embedDocuments(texts: string[]): Promise<number[][]> {
    return (await this.engine.embed(texts, { normalize: true })).map((v) => Array.from(v));
  }
  async embedQuery(text: string): Promise<number[]> {
    return (await this.embedDocuments([text]))[0]!;
  }
}

describe('CoromBM25Retriever', () => {
  it('returns the documents sharing the most weighted terms, best first, at most k', async () => {
    const retriever = CoromBM25Retriever.fromDocuments(DOCS, { k: 2 });
    const top = await retriever.invoke('四川的熊猫吃竹子');
    expect(top.map((d) => d.metadata.source)).toEqual(['b', 'd']);
    expect(top[0]).toBe(DOCS[1]); // the caller's own Document, metadata intact
    expect((await retriever.invoke('es modules')).map((d) => d.metadata.source)).toEqual(['e']);
    expect(await retriever.invoke('完全无关')).toEqual([]);
  });

  it('searchWithScores gives descending BM25 scores; k1 and b reach the index', () => {
    const retriever = CoromBM25Retriever.fromDocuments(DOCS, { k: 5, k1: 0, b: 0 });
    const scored = retriever.searchWithScores('四川');
    expect(scored.map(([d]) => d.metadata.source)).toEqual(['b', 'd']);
    // k1 = 0: the score is the sum of idf over matched terms, equal for both documents; the earlier one leads.
    expect(scored[0]![1]).toBeCloseTo(scored[1]![1], 6);
    expect(() => CoromBM25Retriever.fromDocuments(DOCS, { k: 0 })).toThrow(RangeError);
  });

  it('reports its run to LangChain callbacks', async () => {
    const seen: number[] = [];
    const retriever = CoromBM25Retriever.fromDocuments(DOCS);
    await retriever.invoke('长城', { callbacks: [{ handleRetrieverEnd: (docs: DocumentInterface[]) => void seen.push(docs.length) }] });
    expect(seen).toEqual([1]);
    expect(CoromBM25Retriever.lc_name()).toBe('CoromBM25Retriever');
  });
});

describe('CoromHybridRetriever', () => {
  it('fuses the two rankings by reciprocal rank, by hand', async () => {
    // BM25 for '四川' ranks d (the shorter document) then b. The dense side ranks d, c, a.
    // RRF (k 60): d = 1/61 + 1/61, b = 1/62, c = 1/62, a = 1/63; b and c tie, and b was seen first (BM25 list).
    const hybrid = new CoromHybridRetriever({
      bm25: CoromBM25Retriever.fromDocuments(DOCS, { k: 10 }),
      dense: new FixedOrderRetriever([DOCS[3]!, DOCS[2]!, DOCS[0]!]),
      k: 4,
    });
    const fused = await hybrid.invoke('四川');
    expect(fused.map((d) => d.pageContent)).toEqual([DOCS[3], DOCS[1], DOCS[2], DOCS[0]].map((d) => d!.pageContent));
    // A document found by both sides is the BM25 one (first seen); dense-only ones are the dense copies.
    expect(fused[0]).toBe(DOCS[3]);
    expect(fused[2]!.metadata).toEqual({ fromDense: true });
  });

  it('honours k, weights, rrfK and a custom key; rejects bad settings', async () => {
    const bm25 = CoromBM25Retriever.fromDocuments(DOCS, { k: 10 });
    const dense = new FixedOrderRetriever([DOCS[3]!, DOCS[2]!, DOCS[0]!]);
    const denseOnly = new CoromHybridRetriever({ bm25, dense: new FixedOrderRetriever([DOCS[2]!, DOCS[3]!, DOCS[0]!]), k: 3, weights: [0, 1] });
    expect((await denseOnly.invoke('四川')).map((d) => d.pageContent)).toEqual([DOCS[2], DOCS[3], DOCS[0]].map((d) => d!.pageContent));
    const bm25Only = new CoromHybridRetriever({ bm25, dense, k: 2, weights: [1, 0] });
    expect((await bm25Only.invoke('四川')).map((d) => d.metadata.source)).toEqual(['d', 'b']);
    // Keying by metadata.source: the dense copies carry none, so nothing matches across lists.
    const keyed = new CoromHybridRetriever({ bm25, dense, k: 5, key: (d) => String(d.metadata.source ?? d.pageContent) });
    expect(await keyed.invoke('四川')).toHaveLength(5);
    expect(() => new CoromHybridRetriever({ bm25, dense, k: 0 })).toThrow(RangeError);
    expect(() => new CoromHybridRetriever({ bm25, dense, rrfK: -1 })).toThrow(RangeError);
    expect(() => new CoromHybridRetriever({ bm25, dense, weights: [1, Number.NaN] })).toThrow(RangeError);
  });

  describe('with a vector store over the fixture model', () => {
    let engine: Engine;
    beforeAll(async () => {
      engine = await loadEngine({ model: await convertedFixture('fp32') });
    }, 60_000);
    afterAll(async () => {
      await engine?.close();
    });

    it('runs BM25 + MemoryVectorStore retriever end to end', async () => {
      const store = await MemoryVectorStore.fromDocuments(DOCS, new EngineEmbeddings(engine));
      const hybrid = new CoromHybridRetriever({ bm25: CoromBM25Retriever.fromDocuments(DOCS, { k: 5 }), dense: store.asRetriever(5), k: 5 });
      const fused = await hybrid.invoke('熊猫吃竹子');
      // Every document is in the dense list (5 of 5), so fusion returns each exactly once.
      expect(fused).toHaveLength(5);
      expect(new Set(fused.map((d) => d.pageContent))).toEqual(new Set(DOCS.map((d) => d.pageContent)));
      // The fused order is RRF of the two lists the retrievers really return.
      const lexical = (await CoromBM25Retriever.fromDocuments(DOCS, { k: 5 }).invoke('熊猫吃竹子')).map((d) => d.pageContent);
      const semantic = (await store.asRetriever(5).invoke('熊猫吃竹子')).map((d) => d.pageContent);
      const score = (text: string) =>
        [lexical, semantic].reduce((sum, list) => sum + (list.includes(text) ? 1 / (60 + list.indexOf(text) + 1) : 0), 0);
      const scores = fused.map((d) => score(d.pageContent));
      for (let i = 1; i < scores.length; i++) expect(scores[i]).toBeLessThanOrEqual(scores[i - 1]!);
    });
  });
});
