/**
 * A rerank model in R2 with ORIGINS, in-process (plain Node, no workerd): the Worker's app sends
 * each query of a batch with its passages to the origin's /v1/rerank with `raw_scores: true` and
 * maps the logits back (a real corom app on 127.0.0.1 serving the tiny-ranker on onnxruntime-node);
 * when the origin is down it answers in the isolate (onnxruntime-web). Same scores either way.
 */
import { readFile, readdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { R2Bucket } from '@cloudflare/workers-types';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { servedRanker } from '../../src/core/served-model.js';
import { loadRanker } from '../../src/engine/load.js';
import type { Ranker } from '../../src/engine/ranker.js';
import { createApp } from '../../src/http/app.js';
import { parseConfig } from '../../worker/config.js';
import { createEdgeApp } from '../../worker/edge-app.js';
import type { WorkerEnv } from '../../worker/env.js';
import { IsolateModel } from '../../worker/isolate-model.js';
import { OriginPool } from '../../worker/origins.js';
import { convertedRanker, RANK_SCORE_ABS_TOL, RANKER_CASES } from '../helpers/ranker-fixture.js';

vi.mock('onnxruntime-web/ort-wasm-simd-threaded.wasm', async () => {
  const require = createRequire(import.meta.url);
  const { readFile: read } = await import('node:fs/promises');
  return { default: await WebAssembly.compile(await read(require.resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm'))) };
});

const bucket = {
  objects: new Map<string, Uint8Array>(),
  async get(key: string) {
    const bytes = this.objects.get(key);
    if (!bytes) return null;
    return { text: async () => new TextDecoder().decode(bytes), arrayBuffer: async () => bytes.slice().buffer };
  },
};

let ranker: Ranker;
let server: Server;
let originUrl = '';
const origin = { down: false, posts: [] as any[] };

beforeAll(async () => {
  const dir = await convertedRanker('fp32');
  for (const file of await readdir(dir)) {
    if (['corom.json', 'model.fp32.onnx', 'vocab.txt'].includes(file)) bucket.objects.set(`models/tiny-ranker/${file}`, new Uint8Array(await readFile(join(dir, file))));
  }
  ranker = await loadRanker({ model: dir, id: 'tiny-ranker' });
  const app = createApp({ models: [servedRanker(ranker)] });
  server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    if (origin.down) return void res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":{"message":"down for the test"}}');
    if (req.method === 'POST') origin.posts.push({ path: req.url, body: JSON.parse(body.toString('utf8')) });
    const response = await app.fetch(new Request(`http://127.0.0.1${req.url}`, { method: req.method, headers: { 'content-type': 'application/json' }, ...(req.method === 'POST' ? { body } : {}) }));
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(Buffer.from(await response.arrayBuffer()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  originUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server?.close(() => resolve()));
  await ranker?.close();
});

function startEdge() {
  const logs: string[] = [];
  const env: WorkerEnv = { MODELS: bucket as unknown as R2Bucket, MODEL_ID: 'tiny-ranker', MODEL_DTYPE: 'fp32', ORIGINS: originUrl, ORIGIN_FAILURES: '1', ORIGIN_RETRY_MS: '60000' };
  const config = parseConfig(env);
  const app = createEdgeApp({
    config,
    model: new IsolateModel(env.MODELS!, config.model!, config.memoryBudgetBytes),
    origins: new OriginPool(config.origins, Date.now, (l) => logs.push(l)),
    wasmMemoryBytes: () => undefined,
    log: (line) => logs.push(line),
  });
  const ctx = { waitUntil: () => {}, passThroughOnException: () => {}, props: {} };
  return {
    logs,
    async post(path: string, body: unknown) {
      const response = await app.fetch(new Request(`http://edge.test${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }), {}, ctx);
      return { status: response.status, headers: response.headers, body: (await response.json()) as any };
    },
  };
}

describe('a rerank R2 model with ORIGINS', () => {
  it('is scored by the origin (raw_scores logits mapped back), then by the isolate when the origin is down: same scores', async () => {
    const edge = startEdge();
    const c = RANKER_CASES[2]!;
    const input = { source_sentence: c.source_sentence, sentences_to_compare: c.sentences_to_compare };
    const byOrigin = await edge.post('/v1/text-ranking', { input });
    expect(byOrigin.status, JSON.stringify(byOrigin.body)).toBe(200);
    expect(byOrigin.headers.get('x-corom-backend')).toBe(`origin:${originUrl}`);
    byOrigin.body.scores.forEach((s: number, i: number) => expect(Math.abs(s - c.scores[i]!)).toBeLessThan(RANK_SCORE_ABS_TOL));
    const sent = origin.posts.find((p) => p.path === '/v1/rerank');
    expect(sent.body).toMatchObject({ model: 'tiny-ranker', query: c.source_sentence[0], raw_scores: true });
    // The batch holds the pairs in the queue's length order, not the request's: the logits come back by index.
    expect([...sent.body.documents].sort()).toEqual([...c.sentences_to_compare].sort());

    origin.down = true;
    const inIsolate = await edge.post('/v2/rerank', { query: c.source_sentence[0], documents: c.sentences_to_compare });
    expect(inIsolate.status).toBe(200);
    expect(inIsolate.headers.get('x-corom-backend')).toBe('wasm');
    for (const r of inIsolate.body.results) expect(Math.abs(r.relevance_score - c.scores[r.index]!)).toBeLessThan(RANK_SCORE_ABS_TOL);
    expect(edge.logs.join('\n')).toMatch(/no origin answered for 'tiny-ranker', answering in the isolate/);
  });
});
