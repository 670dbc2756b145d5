/**
 * Remote mode's HTTP behaviour against a loopback test peer that answers scripted failures first
 * (429 with Retry-After, 5xx, 4xx, hangs) and then hands requests to the real corom app over the
 * fixture engine: what is retried, how long the client waits, and what error the caller sees.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { CoromEmbeddings, CoromHttpError, CoromReranker } from '../../integrations/langchain/index.js';
import type { Engine } from '../../src/engine/engine.js';
import { loadEngine } from '../../src/engine/load.js';
import { createApp, servedEngine, type CoromApp } from '../../src/http/index.js';
import { convertedFixture, EXPECTED, FIXTURE_SENTENCES, maxAbsDiff } from '../helpers/fixture.js';
import { startTestPeer, type ScriptedAnswer, type TestPeer } from './test-peer.js';

const TEXTS = FIXTURE_SENTENCES;
const QUERY = EXPECTED[2]!.source_sentence[0]!;
const TOL = 1e-5;

let engine: Engine;
let app: CoromApp;
let peer: TestPeer | undefined;

beforeAll(async () => {
  engine = await loadEngine({ model: await convertedFixture('fp32'), id: 'fixture' });
  app = createApp({ models: [servedEngine(engine)] });
});

afterEach(async () => {
  await peer?.close();
  peer = undefined;
});

afterAll(async () => {
  await engine.close();
});

async function peerWith(script: ScriptedAnswer[]): Promise<TestPeer> {
  peer = await startTestPeer(script, app);
  return peer;
}

function openAiError(message: string, type: string, code: string | null = null) {
  return { error: { message, type, param: null, code } };
}

function gap(p: TestPeer, i: number): number {
  return p.requests[i]!.at - p.requests[i - 1]!.at;
}

async function engineVectors(texts: string[]): Promise<Float32Array[]> {
  return engine.embed(texts, { normalize: true });
}

async function caught(promise: Promise<unknown>): Promise<CoromHttpError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CoromHttpError);
  return err as CoromHttpError;
}

describe('remote retries', () => {
  test('429 with Retry-After in seconds is retried after exactly that wait, then succeeds', async () => {
    const p = await peerWith([{ status: 429, headers: { 'Retry-After': '1' }, body: openAiError('Too many requests queued', 'rate_limit_error') }]);
    const vectors = await new CoromEmbeddings({ baseUrl: p.url }).embedDocuments(TEXTS.slice(0, 3));
    expect(p.requests).toHaveLength(2);
    expect(gap(p, 1)).toBeGreaterThanOrEqual(990);
    expect(gap(p, 1)).toBeLessThan(1500); // the server's wait, not a longer backoff on top
    const expected = await engineVectors(TEXTS.slice(0, 3));
    vectors.forEach((v, i) => expect(maxAbsDiff(v, expected[i]!)).toBeLessThan(TOL));
  });

  test('503 with Retry-After as an HTTP date waits until that date', async () => {
    const until = Date.now() + 2000;
    const p = await peerWith([{ status: 503, headers: { 'Retry-After': new Date(until).toUTCString() }, body: openAiError('Model is loading', 'server_error') }]);
    await new CoromEmbeddings({ baseUrl: p.url }).embedQuery(QUERY);
    expect(p.requests).toHaveLength(2);
    // HTTP dates have one-second resolution: the date names the start of its second.
    expect(Date.now()).toBeGreaterThanOrEqual(Math.floor(until / 1000) * 1000);
    expect(gap(p, 1)).toBeGreaterThanOrEqual(900);
  });

  test('500 without Retry-After is retried after a short backoff', async () => {
    const p = await peerWith([{ status: 500, body: openAiError('boom', 'server_error') }, { status: 502, body: 'Bad Gateway' }]);
    await new CoromEmbeddings({ baseUrl: p.url }).embedQuery(QUERY);
    expect(p.requests).toHaveLength(3);
    expect(gap(p, 1)).toBeGreaterThanOrEqual(350); // 500 ms +-20%
    expect(gap(p, 1)).toBeLessThan(1200);
    expect(gap(p, 2)).toBeGreaterThanOrEqual(750); // then 1 s +-20%
  });

  test.each([400, 401, 403, 404, 413, 422])('%i is not retried and carries the server message', async (status) => {
    const p = await peerWith([{ status, body: openAiError(`server says ${status}`, 'invalid_request_error', 'some_code') }]);
    const err = await caught(new CoromEmbeddings({ baseUrl: p.url }).embedQuery(QUERY));
    expect(p.requests).toHaveLength(1);
    expect(err.status).toBe(status);
    expect(err.type).toBe('invalid_request_error');
    expect(err.code).toBe('some_code');
    expect(err.attempts).toBe(1);
    expect(err.message).toBe(`POST ${p.url}/v1/embeddings failed: ${status} server says ${status} (invalid_request_error)`);
  });

  test('retries stop after maxRetries, naming the attempts and the last server message', async () => {
    const busy = { status: 503, headers: { 'Retry-After': '0' }, body: openAiError('Queue full', 'server_error') };
    const p = await peerWith([busy, busy, busy]);
    const err = await caught(new CoromEmbeddings({ baseUrl: p.url, maxRetries: 1 }).embedQuery(QUERY));
    expect(p.requests).toHaveLength(2);
    expect(err.status).toBe(503);
    expect(err.attempts).toBe(2);
    expect(err.message).toContain('503 Queue full (server_error) -- gave up after 2 attempts');
  });

  test('a Retry-After beyond 60 s is not waited for', async () => {
    const p = await peerWith([{ status: 429, headers: { 'Retry-After': '120' }, body: openAiError('Daily quota used up', 'rate_limit_error') }]);
    const started = performance.now();
    const err = await caught(new CoromEmbeddings({ baseUrl: p.url }).embedQuery(QUERY));
    expect(performance.now() - started).toBeLessThan(1000);
    expect(p.requests).toHaveLength(1);
    expect(err.retryAfterMs).toBe(120_000);
    expect(err.message).toContain('Daily quota used up (rate_limit_error); the server asked to retry after 120 s, longer than this client waits (60 s)');
  });

  test('onFailedAttempt sees each retryable failure and can stop the retries', async () => {
    const p = await peerWith([{ status: 503, headers: { 'Retry-After': '0' }, body: openAiError('Queue full', 'server_error') }]);
    const seen: unknown[] = [];
    const embeddings = new CoromEmbeddings({
      baseUrl: p.url,
      onFailedAttempt: (error) => {
        seen.push(error);
        throw new Error('caller gave up');
      },
    });
    await expect(embeddings.embedQuery(QUERY)).rejects.toThrow('caller gave up');
    expect(p.requests).toHaveLength(1);
    expect((seen[0] as CoromHttpError).status).toBe(503);
  });

  test('timeouts and refused connections are reported in words; a timed-out attempt is retried', async () => {
    const p = await peerWith([{ status: 0, hang: true }]);
    const err = await caught(new CoromEmbeddings({ baseUrl: p.url, timeout: 300, maxRetries: 0 }).embedQuery(QUERY));
    expect(err.status).toBeUndefined();
    expect(err.message).toContain('no answer within 300 ms');

    const p2 = await startTestPeer([{ status: 0, hang: true }], app);
    try {
      await new CoromEmbeddings({ baseUrl: p2.url, timeout: 300, maxRetries: 1 }).embedQuery(QUERY);
      expect(p2.requests).toHaveLength(2);
    } finally {
      await p2.close();
    }

    const closed = await startTestPeer([]);
    const url = closed.url;
    await closed.close();
    const refused = await caught(new CoromEmbeddings({ baseUrl: url, maxRetries: 0 }).embedQuery(QUERY));
    expect(refused.message).toContain('connection refused');
  });

  test('malformed success bodies fail at once with what is wrong', async () => {
    const p = await peerWith([{ status: 200, body: { object: 'list', data: [] } }, { status: 200, body: '<html>proxy</html>' }]);
    const embeddings = new CoromEmbeddings({ baseUrl: p.url });
    await expect(embeddings.embedDocuments(['a', 'b'])).rejects.toThrow(`${p.url}/v1/embeddings answered an unexpected embeddings response: 0 embeddings for 2 inputs`);
    await expect(embeddings.embedQuery('a')).rejects.toThrow('answered 200 with a body that is not JSON: <html>proxy</html>');
    expect(p.requests).toHaveLength(2);
    const p2 = await startTestPeer([{ status: 200, body: { results: [{ index: 9, relevance_score: 0.5 }] } }]);
    try {
      await expect(new CoromReranker({ baseUrl: p2.url }).rerank(['a', 'b', 'c'], 'q')).rejects.toThrow(`${p2.url}/v1/rerank answered an unexpected rerank response: results[0].index is 9`);
    } finally {
      await p2.close();
    }
  });

  test('TEI-style and plain-text error bodies still surface the server message', async () => {
    const p = await peerWith([
      { status: 422, body: { error: 'Input validation error: inputs cannot be empty', error_type: 'Validation' } },
      { status: 400, body: 'plain words' },
    ]);
    const embeddings = new CoromEmbeddings({ baseUrl: p.url });
    expect((await caught(embeddings.embedQuery('a'))).message).toContain('422 Input validation error: inputs cannot be empty (Validation)');
    expect((await caught(embeddings.embedQuery('a'))).message).toContain('400 plain words');
  });

  test('reranker retries 429 too and then ranks like the server', async () => {
    const p = await peerWith([{ status: 429, headers: { 'Retry-After': '0' }, body: openAiError('Too many requests queued', 'rate_limit_error') }]);
    const remote = await new CoromReranker({ baseUrl: p.url }).rerank(TEXTS, QUERY, { topN: 4 });
    expect(p.requests).toHaveLength(2);
    expect(p.requests[1]!.body).toEqual({ query: QUERY, documents: TEXTS, top_n: 4, return_documents: false });
    const local = await new CoromReranker({ engine }).rerank(TEXTS, QUERY, { topN: 4 });
    expect(remote.map((r) => r.index)).toEqual(local.map((r) => r.index));
    remote.forEach((r, i) => expect(r.relevanceScore).toBeCloseTo(local[i]!.relevanceScore, 5));
  });
});

describe('remote wire format', () => {
  test('base64 by default, float on request; model and normalize only when set', async () => {
    const p = await peerWith([]);
    const b64 = await new CoromEmbeddings({ baseUrl: `${p.url}/v1/` }).embedDocuments(TEXTS.slice(0, 4));
    const floats = await new CoromEmbeddings({ baseUrl: p.url, encodingFormat: 'float', model: 'fixture' }).embedDocuments(TEXTS.slice(0, 4));
    const raw = await new CoromEmbeddings({ baseUrl: p.url, normalize: false }).embedQuery(EXPECTED[0]!.source_sentence[0]!);
    expect(p.requests.map((r) => r.path)).toEqual(['/v1/embeddings', '/v1/embeddings', '/v1/embeddings']);
    expect(p.requests[0]!.body).toEqual({ input: TEXTS.slice(0, 4), encoding_format: 'base64' });
    expect(p.requests[1]!.body).toEqual({ input: TEXTS.slice(0, 4), encoding_format: 'float', model: 'fixture' });
    expect(p.requests[2]!.body).toMatchObject({ normalize: false });
    const expected = await engineVectors(TEXTS.slice(0, 4));
    b64.forEach((v, i) => expect(maxAbsDiff(v, expected[i]!)).toBeLessThan(TOL));
    floats.forEach((v, i) => expect(maxAbsDiff(v, expected[i]!)).toBeLessThan(TOL));
    expect(maxAbsDiff(raw, EXPECTED[0]!.text_embedding[0]!)).toBeLessThan(1e-4);
  });

  test('batches become separate requests, results stay in input order', async () => {
    const p = await peerWith([]);
    const vectors = await new CoromEmbeddings({ baseUrl: p.url, batchSize: 3, maxConcurrency: 2 }).embedDocuments(TEXTS);
    expect(p.requests).toHaveLength(Math.ceil(TEXTS.length / 3));
    const expected = await engineVectors(TEXTS);
    vectors.forEach((v, i) => expect(maxAbsDiff(v, expected[i]!)).toBeLessThan(TOL));
  });

  test('a fetcher (Worker service binding) replaces global fetch', async () => {
    const urls: string[] = [];
    const binding = {
      fetch: (url: string, init: RequestInit) => {
        urls.push(url);
        return Promise.resolve(app.fetch(new Request(url, init)));
      },
    };
    const embeddings = new CoromEmbeddings({ fetcher: binding });
    expect(embeddings.mode).toBe('remote');
    const [vector] = await embeddings.embedDocuments([QUERY]);
    expect(urls).toEqual(['http://corom/v1/embeddings']);
    expect(maxAbsDiff(vector!, (await engineVectors([QUERY]))[0]!)).toBeLessThan(TOL);
    const ranked = await new CoromReranker({ fetcher: binding }).rerank(TEXTS.slice(0, 3), QUERY);
    expect(ranked).toHaveLength(3);
  });

  test('no arguments + COROM_BASE_URL / COROM_API_KEY: remote mode with the key', async () => {
    const p = await peerWith([]);
    process.env.COROM_BASE_URL = p.url;
    process.env.COROM_API_KEY = 'from-env';
    try {
      const embeddings = new CoromEmbeddings();
      expect(embeddings.mode).toBe('remote');
      expect(new CoromReranker().mode).toBe('remote');
      await embeddings.embedQuery(QUERY);
      expect(p.requests[0]!.authorization).toBe('Bearer from-env');
    } finally {
      delete process.env.COROM_BASE_URL;
      delete process.env.COROM_API_KEY;
    }
  });

  test('a bad baseUrl is refused when constructed', () => {
    expect(() => new CoromEmbeddings({ baseUrl: 'localhost:8080' })).toThrow("baseUrl 'localhost:8080' must be an http:// or https:// URL");
    expect(() => new CoromEmbeddings({ baseUrl: 'not a url' })).toThrow("baseUrl 'not a url' is not a URL");
  });
});
