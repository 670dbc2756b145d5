/**
 * CoromReranker in this process: scores are the engine's cosine similarities, alone and inside
 * LangChain's ContextualCompressionRetriever. Expected orders are computed from engine vectors,
 * never assumed (the fixture's weights are random).
 */
import { ContextualCompressionRetriever } from '@langchain/classic/retrievers/contextual_compression';
import { MemoryVectorStore } from '@langchain/classic/vectorstores/memory';
import { Document } from '@langchain/core/documents';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CoromBM25Retriever, CoromEmbeddings, CoromReranker } from '../../integrations/langchain/index.js';
import type { Engine } from '../../src/engine/engine.js';
import { EXPECTED, FIXTURE_SENTENCES } from '../helpers/fixture.js';
import { closeLocalEngines, loadFixtureEngine } from './fixture-engine.js';

const TEXTS = FIXTURE_SENTENCES;
const QUERY = EXPECTED[1]!.source_sentence[0]!;

let modelPath: string;
let engine: Engine;

beforeAll(async () => {
  ({ modelPath, engine } = await loadFixtureEngine());
});

afterAll(() => closeLocalEngines(engine));

/** Every document's cosine with the query from the engine, best first, ties by index. */
async function expectedRanking(query: string, texts: string[]): Promise<Array<{ index: number; relevanceScore: number }>> {
  const [q, ...docs] = await engine.embed([query, ...texts], { normalize: true });
  return docs
    .map((v, index) => ({ index, relevanceScore: v.reduce((s, x, j) => s + x * q![j]!, 0) }))
    .sort((a, b) => b.relevanceScore - a.relevanceScore || a.index - b.index);
}

describe('CoromReranker in-process', () => {
  test('rerank returns {index, relevanceScore} of the engine cosine, best first, cut to topN', async () => {
    const reranker = new CoromReranker({ modelPath });
    expect(reranker.mode).toBe('local');
    const expected = await expectedRanking(QUERY, TEXTS);
    const all = await reranker.rerank(TEXTS, QUERY);
    expect(all.map((r) => r.index)).toEqual(expected.map((r) => r.index));
    all.forEach((r, i) => expect(r.relevanceScore).toBeCloseTo(expected[i]!.relevanceScore, 5));
    const top2 = await reranker.rerank(TEXTS, QUERY, { topN: 2 });
    expect(top2.map((r) => r.index)).toEqual(expected.slice(0, 2).map((r) => r.index));
    // Documents, strings and {text} objects are the same document.
    const mixed = await reranker.rerank([new Document({ pageContent: TEXTS[0]! }), TEXTS[1]!, { text: TEXTS[2]! }], QUERY);
    const expected3 = await expectedRanking(QUERY, TEXTS.slice(0, 3));
    expect(mixed.map((r) => r.index)).toEqual(expected3.map((r) => r.index));
  });

  test('compressDocuments returns new Documents with metadata.relevanceScore and leaves the input alone', async () => {
    const docs = TEXTS.map((t, i) => new Document({ pageContent: t, metadata: { source: `doc-${i}` }, id: `id-${i}` }));
    const before = JSON.stringify(docs);
    const out = await new CoromReranker({ modelPath }).compressDocuments(docs, QUERY);
    const expected = (await expectedRanking(QUERY, TEXTS)).slice(0, 3);
    expect(out).toHaveLength(3);
    out.forEach((doc, n) => {
      const { index, relevanceScore } = expected[n]!;
      expect(doc).not.toBe(docs[index]);
      expect(doc.pageContent).toBe(TEXTS[index]);
      expect(doc.id).toBe(`id-${index}`);
      expect(doc.metadata.source).toBe(`doc-${index}`);
      expect(doc.metadata.relevanceScore).toBeCloseTo(relevanceScore, 5);
    });
    expect(JSON.stringify(docs)).toBe(before);
    expect(await new CoromReranker({ modelPath, topN: 50 }).compressDocuments(docs.slice(0, 2), QUERY)).toHaveLength(2);
    expect(await new CoromReranker({ modelPath }).compressDocuments([], QUERY)).toEqual([]);
  });

  test('ContextualCompressionRetriever(CoromReranker) reorders a base retriever by the engine cosine', async () => {
    // BM25 candidates: an order that has nothing to do with the embeddings, so reranking shows.
    const docs = TEXTS.map((t, i) => new Document({ pageContent: t, metadata: { i } }));
    const bm25 = CoromBM25Retriever.fromDocuments(docs, { k: 6 });
    const candidates = await bm25.invoke(QUERY);
    expect(candidates.length).toBeGreaterThan(2);
    const retriever = new ContextualCompressionRetriever({ baseCompressor: new CoromReranker({ modelPath, topN: 2 }), baseRetriever: bm25 });
    const found = await retriever.invoke(QUERY);
    const expected = (await expectedRanking(QUERY, candidates.map((d) => d.pageContent))).slice(0, 2);
    expect(found.map((d) => d.metadata.i)).toEqual(expected.map((r) => candidates[r.index]!.metadata.i));
    found.forEach((d, n) => expect(d.metadata.relevanceScore).toBeCloseTo(expected[n]!.relevanceScore, 5));
  });

  test('the same over a MemoryVectorStore of CoromEmbeddings', async () => {
    const store = await MemoryVectorStore.fromTexts(TEXTS, TEXTS.map((_, i) => ({ i })), new CoromEmbeddings({ modelPath }));
    const retriever = new ContextualCompressionRetriever({ baseCompressor: new CoromReranker({ modelPath, topN: 2 }), baseRetriever: store.asRetriever(6) });
    const found = await retriever.invoke(QUERY);
    const expected = (await expectedRanking(QUERY, TEXTS)).slice(0, 2);
    expect(found.map((d) => d.metadata.i)).toEqual(expected.map((r) => r.index));
  });

  test('bad input fails with one clear line', async () => {
    const reranker = new CoromReranker({ modelPath });
    await expect(reranker.rerank(['a'], '')).rejects.toThrow('the query must be a non-empty string');
    await expect(reranker.rerank(['a', ''], 'q')).rejects.toThrow('documents[1] is empty');
    await expect(reranker.rerank([{ title: 'x' }], 'q')).rejects.toThrow('documents[0] must be a Document, a string or an object with a "text" string');
    await expect(reranker.rerank(['a'], 'q', { topN: 0 })).rejects.toThrow('topN must be a positive integer, got 0');
    expect(() => new CoromReranker({ modelPath, topN: 1.5 })).toThrow('topN must be a positive integer, got 1.5');
  });
});
