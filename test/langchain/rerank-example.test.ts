/**
 * The README's retrieve-then-rerank example, run as written (fixtures as the models): a
 * MemoryVectorStore of CoromEmbeddings (bi-encoder) retrieves 10 candidates, and a
 * ContextualCompressionRetriever with CoromReranker on a rerank model (the tiny-ranker
 * cross-encoder) keeps the best 3. Checked against the Ranker scoring the same candidates.
 */
import { ContextualCompressionRetriever } from '@langchain/classic/retrievers/contextual_compression';
import { MemoryVectorStore } from '@langchain/classic/vectorstores/memory';
import { Document } from '@langchain/core/documents';
import { afterAll, expect, test } from 'vitest';
import { CoromEmbeddings, CoromReranker, releaseSharedEngines } from '../../integrations/langchain/index.js';
import { loadRanker } from '../../src/engine/load.js';
import { convertedFixture } from '../helpers/fixture.js';
import { convertedRanker, RANK_SCORE_ABS_TOL, RANKER_CASES } from '../helpers/ranker-fixture.js';

afterAll(() => releaseSharedEngines());

test('MemoryVectorStore(CoromEmbeddings) -> ContextualCompressionRetriever(CoromReranker on a cross-encoder)', async () => {
  const embedderPath = await convertedFixture('fp32');
  const rankerPath = await convertedRanker('fp32');
  const passages = RANKER_CASES.slice(0, 4).flatMap((c) => c.sentences_to_compare);
  const query = '功和功率的区别';

  // --- README example (fixture folders instead of corom-base and a coROM passage-ranking model) ---
  const docs = passages.map((text, i) => new Document({ pageContent: text, metadata: { id: i } }));
  const store = await MemoryVectorStore.fromDocuments(docs, new CoromEmbeddings({ modelPath: embedderPath }));
  const retriever = new ContextualCompressionRetriever({
    baseRetriever: store.asRetriever(10), // first stage: bi-encoder vectors
    baseCompressor: new CoromReranker({ modelPath: rankerPath, topN: 3 }), // second stage: cross-encoder
  });
  const hits = await retriever.invoke(query);
  // --- end of example ---

  expect(hits).toHaveLength(3);
  const candidates = await store.asRetriever(10).invoke(query);
  expect(candidates).toHaveLength(10);
  const ranker = await loadRanker({ model: rankerPath });
  try {
    const { scores } = await ranker.rank(query, candidates.map((d) => d.pageContent));
    const best = scores.map((score, i) => ({ score, i })).sort((a, b) => b.score - a.score || a.i - b.i).slice(0, 3);
    expect(hits.map((h) => h.pageContent)).toEqual(best.map((b) => candidates[b.i]!.pageContent));
    hits.forEach((h, n) => {
      expect(h.metadata.id).toBe(candidates[best[n]!.i]!.metadata.id);
      expect(Math.abs(h.metadata.relevanceScore - best[n]!.score)).toBeLessThan(RANK_SCORE_ABS_TOL);
      // A probability, not a cosine.
      expect(h.metadata.relevanceScore).toBeGreaterThan(0);
      expect(h.metadata.relevanceScore).toBeLessThan(1);
    });
  } finally {
    await ranker.close();
  }
});

test('CoromReranker.rerank with a rerank model gives the pipeline scores; CoromEmbeddings refuses a rerank model', async () => {
  const rankerPath = await convertedRanker('fp32');
  const c = RANKER_CASES[1]!;
  const results = await new CoromReranker({ modelPath: rankerPath }).rerank(c.sentences_to_compare, c.source_sentence[0]!);
  expect(results).toHaveLength(c.scores.length);
  for (const r of results) expect(Math.abs(r.relevanceScore - c.scores[r.index]!)).toBeLessThan(RANK_SCORE_ABS_TOL);
  await expect(new CoromEmbeddings({ modelPath: rankerPath }).embedQuery('q')).rejects.toThrow(/is a rerank model \(a cross-encoder\).*use it with CoromReranker/);
});
