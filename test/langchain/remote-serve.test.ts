/**
 * Remote mode against a real `corom serve` child process on 127.0.0.1 serving the fixture: the
 * same vectors and rerank order as in-process, and its 401 surfaces unretried with its message.
 */
import { ContextualCompressionRetriever } from '@langchain/classic/retrievers/contextual_compression';
import { MemoryVectorStore } from '@langchain/classic/vectorstores/memory';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CoromEmbeddings, CoromHttpError, CoromReranker, releaseSharedEngines, type FetchLike } from '../../integrations/langchain/index.js';
import { convertedFixture, EXPECTED, FIXTURE_SENTENCES, maxAbsDiff } from '../helpers/fixture.js';
import { startServe, type ServeProcess } from './serve-process.js';

const TEXTS = FIXTURE_SENTENCES;
const QUERIES = EXPECTED.map((c) => c.source_sentence[0]!);
const KEY = 'test-key-1';
const TOL = 1e-5;

let modelPath: string;
let server: ServeProcess;
/** Admits one request at a time and holds it 300 ms for company: a second one gets 429. */
let crowded: ServeProcess;

beforeAll(async () => {
  modelPath = await convertedFixture('fp32');
  [server, crowded] = await Promise.all([
    startServe(['--model', modelPath, '--dtype', 'fp32', '--api-key', KEY]),
    startServe(['--model', modelPath, '--dtype', 'fp32', '--max-queue', '1', '--batch-wait-ms', '300']),
  ]);
});

afterAll(async () => {
  await Promise.all([server?.stop(), crowded?.stop()]);
  await releaseSharedEngines();
});

/** Global fetch, counting requests (to prove what was and was not retried). */
function countingFetch(): FetchLike & { count: number } {
  const counter = {
    count: 0,
    fetch: (url: string, init: Parameters<FetchLike['fetch']>[1]) => {
      counter.count++;
      return fetch(url, init);
    },
  };
  return counter;
}

describe('remote mode against corom serve', () => {
  test('embeddings equal the in-process ones (base64 and float)', async () => {
    const local = await new CoromEmbeddings({ modelPath }).embedDocuments(TEXTS);
    for (const encodingFormat of ['base64', 'float'] as const) {
      const remote = await new CoromEmbeddings({ baseUrl: server.url, apiKey: KEY, encodingFormat, batchSize: 4 }).embedDocuments(TEXTS);
      expect(remote).toHaveLength(TEXTS.length);
      remote.forEach((v, i) => expect(maxAbsDiff(v, local[i]!)).toBeLessThan(TOL));
    }
    const rawRemote = await new CoromEmbeddings({ baseUrl: server.url, apiKey: KEY, normalize: false }).embedQuery(QUERIES[0]!);
    expect(maxAbsDiff(rawRemote, EXPECTED[0]!.text_embedding[0]!)).toBeLessThan(1e-4);
  });

  test('a MemoryVectorStore retriever returns the same documents remote and in-process', async () => {
    const remoteStore = await MemoryVectorStore.fromTexts(TEXTS, TEXTS.map((_, i) => ({ i })), new CoromEmbeddings({ baseUrl: server.url, apiKey: KEY }));
    const localStore = await MemoryVectorStore.fromTexts(TEXTS, TEXTS.map((_, i) => ({ i })), new CoromEmbeddings({ modelPath }));
    for (const query of QUERIES) {
      const remote = await remoteStore.asRetriever(4).invoke(query);
      const local = await localStore.asRetriever(4).invoke(query);
      expect(remote.map((d) => d.metadata.i)).toEqual(local.map((d) => d.metadata.i));
    }
  });

  test('rerank gives the same order and scores as in-process, also inside ContextualCompressionRetriever', async () => {
    const remote = new CoromReranker({ baseUrl: server.url, apiKey: KEY });
    const local = new CoromReranker({ modelPath });
    for (const query of QUERIES) {
      const r = await remote.rerank(TEXTS, query);
      const l = await local.rerank(TEXTS, query);
      expect(r.map((x) => x.index)).toEqual(l.map((x) => x.index));
      r.forEach((x, i) => expect(Math.abs(x.relevanceScore - l[i]!.relevanceScore)).toBeLessThan(TOL));
    }
    const store = await MemoryVectorStore.fromTexts(TEXTS, TEXTS.map((_, i) => ({ i })), new CoromEmbeddings({ baseUrl: server.url, apiKey: KEY }));
    const compressed = new ContextualCompressionRetriever({ baseCompressor: new CoromReranker({ baseUrl: server.url, apiKey: KEY, topN: 2 }), baseRetriever: store.asRetriever(6) });
    const found = await compressed.invoke(QUERIES[1]!);
    const expected = (await local.rerank(TEXTS, QUERIES[1]!, { topN: 2 })).map((x) => x.index);
    expect(found.map((d) => d.metadata.i)).toEqual(expected);
  });

  test('a bad or missing key is a 401 that is not retried and carries the server message', async () => {
    const bad = countingFetch();
    const err = await new CoromEmbeddings({ baseUrl: server.url, apiKey: 'wrong', fetcher: bad }).embedQuery(QUERIES[0]!).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CoromHttpError);
    expect(bad.count).toBe(1);
    expect((err as CoromHttpError).status).toBe(401);
    expect((err as CoromHttpError).code).toBe('invalid_api_key');
    expect((err as CoromHttpError).message).toBe(`POST ${server.url}/v1/embeddings failed: 401 Invalid API key (authentication_error)`);

    const none = countingFetch();
    const rerankErr = await new CoromReranker({ baseUrl: server.url, fetcher: none }).rerank(TEXTS, QUERIES[0]!).catch((e: unknown) => e);
    expect(none.count).toBe(1);
    expect((rerankErr as Error).message).toContain("401 Missing API key: send the header 'Authorization: Bearer <key>'");
  });

  test("the server's 429 (queue full, Retry-After: 1) is retried after a second and every text gets its vector", async () => {
    const statuses: number[] = [];
    const watching: FetchLike = {
      fetch: async (url, init) => {
        const response = await fetch(url, init);
        statuses.push(response.status);
        return response;
      },
    };
    const started = performance.now();
    const texts = TEXTS.slice(0, 3);
    const vectors = await new CoromEmbeddings({ baseUrl: crowded.url, fetcher: watching, batchSize: 1, maxConcurrency: 3 }).embedDocuments(texts);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
    expect(statuses.filter((s) => s === 200)).toHaveLength(3);
    expect(performance.now() - started).toBeGreaterThanOrEqual(1000);
    const local = await new CoromEmbeddings({ modelPath }).embedDocuments(texts);
    vectors.forEach((v, i) => expect(maxAbsDiff(v, local[i]!)).toBeLessThan(TOL));
  });

  test("the server's 400 for an unknown model surfaces as is", async () => {
    const err = await new CoromEmbeddings({ baseUrl: server.url, apiKey: KEY, model: 'no-such-model' }).embedQuery(QUERIES[0]!).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CoromHttpError);
    expect([400, 404]).toContain((err as CoromHttpError).status);
    expect((err as Error).message).toContain('no-such-model');
  });
});
