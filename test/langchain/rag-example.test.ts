/**
 * The README's RAG example, run as written (with the fixture as the model): Chinese text split by
 * RecursiveCharacterTextSplitter, a MemoryVectorStore of CoromEmbeddings, and a
 * ContextualCompressionRetriever with CoromReranker on top. Results are checked against the engine.
 */
import { ContextualCompressionRetriever } from '@langchain/classic/retrievers/contextual_compression';
import { MemoryVectorStore } from '@langchain/classic/vectorstores/memory';
import { RecursiveCharacterTextSplitter } from '@langchain/textsplitters';
import { afterAll, expect, test } from 'vitest';
import { CoromEmbeddings, CoromReranker, releaseSharedEngines } from '../../integrations/langchain/index.js';
import { loadEngine } from '../../src/engine/load.js';
import { convertedFixture, EXPECTED } from '../helpers/fixture.js';

afterAll(() => releaseSharedEngines());

test('split -> MemoryVectorStore -> retriever -> ContextualCompressionRetriever(CoromReranker)', async () => {
  const modelPath = await convertedFixture('fp32');
  const text = EXPECTED.flatMap((c) => c.sentences_to_compare).join('\n\n');

  // --- README example (modelPath added: the fixture instead of the default model) ---
  const splitter = new RecursiveCharacterTextSplitter({
    chunkSize: 120, // characters; coROM reads at most 128 tokens ([CLS] and [SEP] included)
    chunkOverlap: 20,
    separators: ['\n\n', '\n', '。', '！', '？', '；', '，', ''],
  });
  const docs = await splitter.createDocuments([text], [{ source: 'cards.txt' }]);
  const store = await MemoryVectorStore.fromDocuments(docs, new CoromEmbeddings({ modelPath }));
  const retriever = new ContextualCompressionRetriever({
    baseRetriever: store.asRetriever(10),
    baseCompressor: new CoromReranker({ modelPath, topN: 3 }),
  });
  const hits = await retriever.invoke('功和功率的区别');
  // --- end of example ---

  expect(docs.length).toBeGreaterThan(3);
  for (const d of docs) expect(d.pageContent.length).toBeLessThanOrEqual(120);
  expect(hits).toHaveLength(3);

  const engine = await loadEngine({ model: modelPath });
  try {
    const [q, ...vectors] = await engine.embed(['功和功率的区别', ...docs.map((d) => d.pageContent)], { normalize: true });
    const scores = vectors.map((v) => v.reduce((s, x, j) => s + x * q![j]!, 0));
    const best = scores.map((score, i) => ({ score, i })).sort((a, b) => b.score - a.score || a.i - b.i).slice(0, 3);
    expect(hits.map((h) => h.pageContent)).toEqual(best.map((b) => docs[b.i]!.pageContent));
    hits.forEach((h, n) => {
      expect(h.metadata.source).toBe('cards.txt');
      expect(h.metadata.relevanceScore).toBeCloseTo(best[n]!.score, 5);
    });
  } finally {
    await engine.close();
  }
});
