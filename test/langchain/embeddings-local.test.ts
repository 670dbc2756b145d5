/**
 * CoromEmbeddings in this process, inside LangChain's own classes (MemoryVectorStore,
 * CacheBackedEmbeddings): the vectors they hold and return must be the engine's.
 */
import { CacheBackedEmbeddings } from '@langchain/classic/embeddings/cache_backed';
import { InMemoryStore } from '@langchain/classic/storage/in_memory';
import { MemoryVectorStore } from '@langchain/classic/vectorstores/memory';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CoromEmbeddings, type TextEmbedder } from '../../integrations/langchain/index.js';
import type { Engine } from '../../src/engine/engine.js';
import { EXPECTED, FIXTURE_SENTENCES, maxAbsDiff } from '../helpers/fixture.js';
import { closeLocalEngines, loadFixtureEngine } from './fixture-engine.js';

const TEXTS = FIXTURE_SENTENCES;
const QUERY = EXPECTED[0]!.source_sentence[0]!;
const TOL = 1e-5;

let modelPath: string;
let engine: Engine;

beforeAll(async () => {
  ({ modelPath, engine } = await loadFixtureEngine());
});

afterAll(() => closeLocalEngines(engine));

async function engineVectors(texts: string[], normalize = true): Promise<Float32Array[]> {
  return engine.embed(texts, { normalize });
}

describe('CoromEmbeddings in-process', () => {
  test('MemoryVectorStore.fromTexts holds the engine vectors and its retriever ranks by them', async () => {
    const embeddings = new CoromEmbeddings({ modelPath });
    expect(embeddings.mode).toBe('local');
    const store = await MemoryVectorStore.fromTexts(TEXTS, TEXTS.map((_, i) => ({ i })), embeddings);
    const expected = await engineVectors(TEXTS);
    expect(store.memoryVectors).toHaveLength(TEXTS.length);
    for (const row of store.memoryVectors) {
      const i = (row.metadata as { i: number }).i;
      expect(row.content).toBe(TEXTS[i]);
      expect(maxAbsDiff(row.embedding, expected[i]!)).toBeLessThan(TOL);
    }

    const k = 4;
    const found = await store.asRetriever(k).invoke(QUERY);
    expect(found).toHaveLength(k);
    // The order a retriever must produce, computed from the engine's own vectors.
    const [q] = await engineVectors([QUERY]);
    const order = expected
      .map((v, i) => ({ i, score: v.reduce((s, x, j) => s + x * q![j]!, 0) }))
      .sort((a, b) => b.score - a.score)
      .slice(0, k)
      .map((r) => r.i);
    expect(found.map((d) => (d.metadata as { i: number }).i)).toEqual(order);
    for (const doc of found) {
      const i = (doc.metadata as { i: number }).i;
      const stored = store.memoryVectors.find((r) => (r.metadata as { i: number }).i === i)!;
      expect(maxAbsDiff(stored.embedding, expected[i]!)).toBeLessThan(TOL);
    }
  });

  test('embedQuery is the engine vector; normalize: false gives the raw [CLS] vector of the reference', async () => {
    const unit = await new CoromEmbeddings({ modelPath }).embedQuery(QUERY);
    const [expectedUnit] = await engineVectors([QUERY]);
    expect(maxAbsDiff(unit, expectedUnit!)).toBeLessThan(TOL);
    expect(Math.hypot(...unit)).toBeCloseTo(1, 5);

    const raw = await new CoromEmbeddings({ modelPath, normalize: false }).embedQuery(QUERY);
    expect(maxAbsDiff(raw, EXPECTED[0]!.text_embedding[0]!)).toBeLessThan(1e-4);
  });

  test('small batches keep input order', async () => {
    const whole = await new CoromEmbeddings({ modelPath }).embedDocuments(TEXTS);
    const batched = await new CoromEmbeddings({ modelPath, batchSize: 2 }).embedDocuments(TEXTS);
    expect(batched).toHaveLength(TEXTS.length);
    batched.forEach((v, i) => expect(maxAbsDiff(v, whole[i]!)).toBeLessThan(TOL));
    expect(await new CoromEmbeddings({ modelPath }).embedDocuments([])).toEqual([]);
  });

  test('stripNewLines changes nothing for the BERT tokenizer', async () => {
    const text = `${TEXTS[1]}\n${TEXTS[2]}`;
    const [kept] = await new CoromEmbeddings({ modelPath }).embedDocuments([text]);
    const [stripped] = await new CoromEmbeddings({ modelPath, stripNewLines: true }).embedDocuments([text]);
    expect(maxAbsDiff(kept!, stripped!)).toBeLessThan(TOL);
  });

  test('CacheBackedEmbeddings over an InMemoryStore embeds each text once', async () => {
    let embedded = 0;
    const counting: TextEmbedder = {
      embed: (texts, options) => {
        embedded += texts.length;
        return engine.embed(texts, options);
      },
    };
    const cached = CacheBackedEmbeddings.fromBytesStore(new CoromEmbeddings({ engine: counting }), new InMemoryStore<Uint8Array>(), { namespace: 'corom-fixture' });
    const first = await cached.embedDocuments(TEXTS.slice(0, 5));
    expect(embedded).toBe(5);
    const second = await cached.embedDocuments(TEXTS.slice(0, 7));
    expect(embedded).toBe(7); // only the two new texts
    const expected = await engineVectors(TEXTS.slice(0, 7));
    [...first, ...second].forEach((v, n) => expect(maxAbsDiff(v, expected[n < 5 ? n : n - 5]!)).toBeLessThan(TOL));
  });

  test('no arguments: the default model is COROM_MODEL, with the dtype corom serve would load', async () => {
    process.env.COROM_MODEL = modelPath;
    try {
      process.env.COROM_DTYPE = 'fp32';
      const embeddings = new CoromEmbeddings();
      expect(embeddings.mode).toBe('local');
      const [vector] = await embeddings.embedDocuments([QUERY]);
      expect(maxAbsDiff(vector!, (await engineVectors([QUERY]))[0]!)).toBeLessThan(TOL);
      // Without COROM_DTYPE it is fp32, as for `corom serve` (issue 14, item 13); this folder only has fp32.
      delete process.env.COROM_DTYPE;
      const [byDefault] = await new CoromEmbeddings().embedDocuments([QUERY]);
      expect(maxAbsDiff(byDefault!, vector!)).toBeLessThan(TOL);
      process.env.COROM_DTYPE = 'int8';
      await expect(new CoromEmbeddings().embedQuery(QUERY)).rejects.toThrow('converted folder has no int8 model (has: fp32)');
      process.env.COROM_DTYPE = 'fp16';
      await expect(new CoromEmbeddings().embedQuery(QUERY)).rejects.toThrow("COROM_DTYPE must be one of fp32, int8, q4 (got 'fp16')");
    } finally {
      delete process.env.COROM_MODEL;
      delete process.env.COROM_DTYPE;
    }
  });

  test('bad input and options fail with one clear line', async () => {
    const embeddings = new CoromEmbeddings({ modelPath });
    await expect(embeddings.embedDocuments(['a', ''])).rejects.toThrow('documents[1] is an empty string');
    await expect(embeddings.embedDocuments(['a', 3 as unknown as string])).rejects.toThrow('documents[1] is number, expected a string');
    await expect(embeddings.embedQuery('')).rejects.toThrow('the query is an empty string');
    expect(() => new CoromEmbeddings({ modelPath, batchSize: 0 })).toThrow('batchSize must be a positive integer');
    expect(() => new CoromEmbeddings({ modelPath, dtype: 'fp16' as never })).toThrow("dtype must be one of fp32, int8, q4, got 'fp16'");
    expect(() => new CoromEmbeddings({ modelPath, baseUrl: 'http://127.0.0.1:1' })).toThrow('not both');
    // A missing model folder is reported on first use, naming the folder; the next call tries again.
    const missing = new CoromEmbeddings({ modelPath: `${modelPath}/no-such-model` });
    await expect(missing.embedQuery('你好')).rejects.toThrow(/no-such-model: model folder not found/);
    await expect(missing.embedQuery('你好')).rejects.toThrow(/no-such-model: model folder not found/);
  });
});
