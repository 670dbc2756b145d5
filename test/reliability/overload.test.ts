/**
 * Overload is refused before any work is spent on the refused request
 * (src/http/middleware/load-shedding.ts): with every model queue full, a POST to an inference
 * route gets 429 + Retry-After without its body being read, parsed or tokenized.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureModel, removeFixtureModel } from '../../scripts/reliability/serve-child.js';
import type { Engine } from '../../src/engine/engine.js';
import { loadEngine } from '../../src/engine/load.js';
import { createApp } from '../../src/http/app.js';
import { servedEngine, type TokenModel } from '../../src/core/served-model.js';
import { listen, type RunningServer } from '../../src/node/http-server.js';
import { expectOpenAiError } from './expectations.js';

afterAll(removeFixtureModel);

let engine: Engine;
const servers: RunningServer[] = [];
/** Releases the batches held by `heldModel`. */
const releases: Array<() => void> = [];
const releaseAll = (): void => releases.splice(0).forEach((r) => r());

/** Rows of every batch a held model ran. */
const batchRows: number[] = [];

/** A model whose batches wait until releaseAll(). */
function heldModel(id: string): TokenModel {
  const base = servedEngine(engine, { id });
  return {
    ...base,
    embedTokens: async (sequences) => {
      batchRows.push(sequences.length);
      await new Promise<void>((resolve) => releases.push(resolve));
      return base.embedTokens(sequences);
    },
  };
}

async function serve(models: TokenModel[], maxQueue = 1): Promise<string> {
  const server = await listen(createApp({ models, batching: { maxQueue } }), { host: '127.0.0.1', port: 0 });
  servers.push(server);
  return server.url;
}

beforeAll(async () => {
  engine = await loadEngine({ model: await fixtureModel(), dtype: 'fp32', threads: 1 });
});
afterAll(async () => {
  releaseAll();
  for (const server of servers) await server.close(1000);
  await engine?.close();
});

const post = (url: string, path: string, body: string) => fetch(`${url}${path.slice(1)}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

async function waitUntilAdmitted(url: string, model: string, requests = 1, sequences?: number): Promise<void> {
  for (let i = 0; i < 400; i++) {
    const metrics = await (await fetch(`${url}metrics`)).text();
    if (metrics.includes(`corom_queue_requests{model="${model}"} ${requests}`) && (sequences === undefined || metrics.includes(`corom_queue_depth{model="${model}"} ${sequences}`))) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`${model}: never ${requests} requests admitted${sequences === undefined ? '' : ` with ${sequences} sequences waiting`}`);
}

describe('load shedding', () => {
  it('every queue full: 429 + Retry-After at once on every inference route, without reading the body (even an invalid one)', async () => {
    const url = await serve([heldModel('only')]);
    const admitted = post(url, '/v1/embeddings', JSON.stringify({ input: 'a' }));
    await waitUntilAdmitted(url, 'only');

    const refusals: Array<[string, string]> = [
      ['/v1/embeddings', '{"input": '], // not even JSON: refused before it is read
      ['/v1/embeddings', JSON.stringify({ input: Array.from({ length: 2048 }, (_, i) => `第${i}句`) })],
      ['/v1/rerank', JSON.stringify({ query: 'q', documents: ['a', 'b'] })],
      ['/v1/sentence-embedding', JSON.stringify({ input: { source_sentence: ['a'] } })],
    ];
    // The admitted request is held, so anything queued behind it would never answer: a 429 here
    // is the proof of a refusal before queueing (its latency is not asserted).
    for (const [path, body] of refusals) {
      const res = await post(url, path, body);
      const text = await res.text();
      expect(res.status, `${path} ${text}`).toBe(429);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(expectOpenAiError(res.status, text).error).toMatchObject({ type: 'rate_limit_error', code: 'queue_full' });
    }
    // Routes that do not queue keep answering.
    expect((await fetch(`${url}health`)).status).toBe(200);
    expect((await post(url, '/tokenize', JSON.stringify({ inputs: 'a' }))).status).toBe(200);

    releaseAll();
    expect((await admitted).status).toBe(200);
    const after = post(url, '/v1/embeddings', JSON.stringify({ input: 'b' }));
    await waitUntilAdmitted(url, 'only');
    releaseAll();
    expect((await after).status).toBe(200);
  });

  it('one full queue among two models: the other model is still served; the full one answers 429', async () => {
    const url = await serve([heldModel('held'), servedEngine(engine, { id: 'free' })]);
    const admitted = post(url, '/v1/embeddings', JSON.stringify({ input: 'a', model: 'held' }));
    await waitUntilAdmitted(url, 'held');
    expect((await post(url, '/v1/embeddings', JSON.stringify({ input: 'b', model: 'free' }))).status).toBe(200);
    const refused = await post(url, '/v1/embeddings', JSON.stringify({ input: 'c', model: 'held' }));
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    // A body that names the full model is read (another model has room), so bad JSON is a 400 here.
    expect((await post(url, '/v1/embeddings', '{"input": ')).status).toBe(400);
    releaseAll();
    expect((await admitted).status).toBe(200);
  });
});

describe('abandoned requests', () => {
  it("a client that disconnects while queued: its request leaves the queue at once and its texts are never embedded", async () => {
    const url = await serve([heldModel('held')], 4);
    batchRows.length = 0;
    const running = post(url, '/v1/embeddings', JSON.stringify({ input: 'a', model: 'held' }));
    await waitUntilAdmitted(url, 'held', 1, 0);
    const client = new AbortController();
    const abandoned = fetch(`${url}v1/embeddings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ input: Array.from({ length: 30 }, (_, i) => `第${i}句`), model: 'held' }),
      signal: client.signal,
    }).catch(() => 'aborted');
    await waitUntilAdmitted(url, 'held', 2, 30);
    client.abort();
    expect(await abandoned).toBe('aborted');
    await waitUntilAdmitted(url, 'held', 1, 0);
    releaseAll();
    expect((await running).status).toBe(200);
    // Only the first request's one row was ever computed.
    expect(batchRows).toEqual([1]);
    const metrics = await (await fetch(`${url}metrics`)).text();
    expect(metrics).not.toMatch(/status="5\d\d"/);
  });
});
