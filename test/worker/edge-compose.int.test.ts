/**
 * The Worker's composition in-process (plain Node, no workerd): createEdgeApp from worker/edge-app.ts
 * with the fixture model converted into an in-memory R2 bucket, the in-isolate backend on
 * onnxruntime-web (the same compiled .wasm module wrangler would bundle), and a real corom app on
 * 127.0.0.1 as the origin (onnxruntime-node). Checks that every answer, whoever computed it, goes
 * through the one app: x-request-id, /metrics per backend, errors, auth once.
 */
import { readFile, readdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { R2Bucket } from '@cloudflare/workers-types';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { servedEngine } from '../../src/core/served-model.js';
import { loadEngine } from '../../src/engine/load.js';
import type { Engine } from '../../src/engine/engine.js';
import { createApp, type CoromApp } from '../../src/http/app.js';
import { parseConfig } from '../../worker/config.js';
import { createEdgeApp } from '../../worker/edge-app.js';
import { type CachedAnswer, type EmbedCache } from '../../worker/embed-cache.js';
import type { WorkerEnv } from '../../worker/env.js';
import { IsolateModel } from '../../worker/isolate-model.js';
import { OriginPool } from '../../worker/origins.js';
import { convertedFixture, EXPECTED, maxAbsDiff } from '../helpers/fixture.js';

// wrangler compiles this import into a WebAssembly.Module (CompiledWasm rule); Node cannot import a
// .wasm file, so the test hands the isolate the same module compiled from the same file.
vi.mock('onnxruntime-web/ort-wasm-simd-threaded.wasm', async () => {
  const require = createRequire(import.meta.url);
  const { readFile: read } = await import('node:fs/promises');
  return { default: await WebAssembly.compile(await read(require.resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm'))) };
});

const KEY = 'client-key';
const ORIGIN_KEY = 'origin-key';
const reference = EXPECTED.find((c) => (c.sentences_to_compare?.length ?? 0) >= 2)!;
const TEXTS = [...reference.source_sentence, ...(reference.sentences_to_compare ?? [])];

/** An R2 bucket over a Map: what the Worker reads with get(), nothing more. */
class MemoryBucket {
  readonly objects = new Map<string, Uint8Array>();
  gets = 0;
  async get(key: string) {
    this.gets++;
    const bytes = this.objects.get(key);
    if (!bytes) return null;
    return { text: async () => new TextDecoder().decode(bytes), arrayBuffer: async () => bytes.slice().buffer };
  }
}

class MapCache implements EmbedCache {
  readonly kind = 'kv' as const;
  readonly entries = new Map<string, CachedAnswer>();
  async get(key: string) {
    return this.entries.get(key);
  }
  async put(key: string, answer: CachedAnswer) {
    this.entries.set(key, answer);
  }
}

/** A real corom app on 127.0.0.1 (the fixture on onnxruntime-node), with a switch to take it down. */
interface Origin {
  url: string;
  down: boolean;
  posts: Array<{ authorization: string | undefined; body: any }>;
  close(): Promise<void>;
}

async function startOrigin(app: CoromApp): Promise<Origin> {
  const origin: Origin = { url: '', down: false, posts: [], close: async () => {} };
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    if (origin.down) {
      res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":{"message":"down for the test"}}');
      return;
    }
    if (req.method === 'POST') origin.posts.push({ authorization: req.headers.authorization, body: JSON.parse(body.toString('utf8')) });
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string') headers.set(name, value);
    const response = await app.fetch(new Request(`http://127.0.0.1${req.url}`, { method: req.method, headers, ...(req.method === 'POST' ? { body } : {}) }));
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(Buffer.from(await response.arrayBuffer()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  origin.close = () => new Promise((resolve) => server.close(() => resolve()));
  return origin;
}

interface Edge {
  app: CoromApp;
  bucket: MemoryBucket;
  pending: Promise<unknown>[];
  logs: string[];
  request(path: string, init?: { body?: unknown; key?: string | null }): Promise<{ status: number; headers: Headers; body: any }>;
}

function startEdge(vars: WorkerEnv, bucket: MemoryBucket, options: { cache?: EmbedCache } = {}): Edge {
  const logs: string[] = [];
  const log = (line: string) => logs.push(line);
  const env: WorkerEnv = { MODELS: bucket as unknown as R2Bucket, MODEL_ID: 'tiny-bert', MODEL_DTYPE: 'fp32', API_KEYS: KEY, ...vars };
  const config = parseConfig(env);
  const app = createEdgeApp({
    config,
    model: new IsolateModel(env.MODELS!, config.model!, config.memoryBudgetBytes),
    ...(config.origins.urls.length > 0 ? { origins: new OriginPool(config.origins, Date.now, log) } : {}),
    ...(options.cache ? { cache: options.cache } : {}),
    wasmMemoryBytes: () => undefined,
    log,
  });
  const pending: Promise<unknown>[] = [];
  const ctx = { waitUntil: (p: Promise<unknown>) => void pending.push(p), passThroughOnException: () => {}, props: {} };
  return {
    app,
    bucket,
    pending,
    logs,
    async request(path, init = {}) {
      const headers: Record<string, string> = {};
      if (init.key !== null) headers.authorization = `Bearer ${init.key ?? KEY}`;
      if (init.body !== undefined) headers['content-type'] = 'application/json';
      const response = await app.fetch(
        new Request(`http://edge.test${path}`, { method: init.body === undefined ? 'GET' : 'POST', headers, ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}) }),
        {},
        ctx,
      );
      const text = await response.text();
      let body: any = text;
      try {
        body = JSON.parse(text);
      } catch {}
      return { status: response.status, headers: response.headers, body };
    },
  };
}

function expectReference(vectors: number[][]): void {
  expect(vectors).toHaveLength(reference.text_embedding.length);
  vectors.forEach((v, i) => expect(maxAbsDiff(v, reference.text_embedding[i])).toBeLessThan(1e-4));
}

const vectorsOf = (body: any): number[][] => body.data.map((d: { embedding: number[] }) => d.embedding);

/** `metric{labels} value` lines of a /metrics scrape, as label text -> number. */
function series(scrape: string, metric: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of scrape.split('\n')) {
    const match = new RegExp(`^${metric}(\\{[^}]*\\})? (\\S+)$`).exec(line);
    if (match) out[match[1] ?? ''] = Number(match[2]);
  }
  return out;
}

let objects: Map<string, Uint8Array>;
let engine: Engine;
let origin: Origin;

beforeAll(async () => {
  const dir = await convertedFixture('fp32');
  objects = new Map();
  for (const file of await readdir(dir)) {
    if (['corom.json', 'model.fp32.onnx', 'vocab.txt'].includes(file)) objects.set(`models/tiny-bert/${file}`, new Uint8Array(await readFile(join(dir, file))));
  }
  engine = await loadEngine({ model: dir, backend: 'node', id: 'tiny-bert' });
  origin = await startOrigin(createApp({ models: [servedEngine(engine)], apiKeys: [ORIGIN_KEY] }));
}, 60_000);

afterAll(async () => {
  await origin?.close();
  await engine?.close();
});

function filledBucket(): MemoryBucket {
  const bucket = new MemoryBucket();
  for (const [key, bytes] of objects) bucket.objects.set(key, bytes);
  return bucket;
}

describe('the Worker composes the one app', () => {
  it('answers from the origin with the same token ids, counted in /metrics, with a request id', async () => {
    const edge = startEdge({ ORIGINS: origin.url, ORIGIN_API_KEY: ORIGIN_KEY }, filledBucket());
    const postsBefore = origin.posts.length;
    const response = await edge.request('/v1/embeddings', { body: { input: TEXTS, normalize: false } });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(response.headers.get('x-corom-backend')).toBe(`origin:${origin.url}`);
    expect(response.headers.get('x-request-id')).toBeTruthy();
    expect(response.body.model).toBe('tiny-bert');
    expectReference(vectorsOf(response.body));

    // The origin got complete token-id sequences (what /tokenize gives) and the origin's key, not the client's.
    const post = origin.posts[postsBefore]!;
    expect(post.authorization).toBe(`Bearer ${ORIGIN_KEY}`);
    expect(post.body).toMatchObject({ model: 'tiny-bert', encoding_format: 'base64', normalize: false });
    expect(post.body.input).toEqual(reference.input_ids);

    // Rerank and the ModelScope pipeline are computed by the app from origin vectors.
    const pipeline = await edge.request('/v1/sentence-embedding', {
      body: { input: { source_sentence: reference.source_sentence, sentences_to_compare: reference.sentences_to_compare } },
    });
    expect(pipeline.status).toBe(200);
    expect(pipeline.headers.get('x-corom-backend')).toBe(`origin:${origin.url}`);
    reference.scores.forEach((score, i) => expect(Math.abs(pipeline.body.scores[i] - score) / Math.abs(score)).toBeLessThan(1e-3));

    const metrics = await edge.request('/metrics');
    expect(series(metrics.body, 'corom_answers_total')).toEqual({ [`{model="tiny-bert",backend="origin:${origin.url}"}`]: 2 });
    expect(series(metrics.body, 'corom_http_requests_total')['{route="/v1/embeddings",method="POST",status="200"}']).toBe(1);

    const info = await edge.request('/info');
    expect(info.body.edge.origins[0]).toMatchObject({ url: origin.url, answered: 2, models: { 'tiny-bert': 32 } });
    expect(info.body.edge.model).toMatchObject({ id: 'tiny-bert', loaded: false });
  });

  it('falls back to the isolate when the origin is down, and says so in headers and /metrics', async () => {
    const edge = startEdge({ ORIGINS: origin.url, ORIGIN_API_KEY: ORIGIN_KEY, ORIGIN_FAILURES: '1' }, filledBucket());
    origin.down = true;
    try {
      const response = await edge.request('/v1/embeddings', { body: { input: TEXTS, normalize: false } });
      expect(response.status, JSON.stringify(response.body)).toBe(200);
      expect(response.headers.get('x-corom-backend')).toBe('wasm');
      expect(response.headers.get('x-request-id')).toBeTruthy();
      expectReference(vectorsOf(response.body));
      expect(edge.logs.join('\n')).toContain('answering in the isolate');
      const metrics = await edge.request('/metrics');
      expect(series(metrics.body, 'corom_answers_total')).toEqual({ '{model="tiny-bert",backend="wasm"}': 1 });
      const info = await edge.request('/info');
      expect(info.body.edge.model).toMatchObject({ loaded: true, sessions: 1 });
      expect(info.body.edge.origins[0].breaker).toBe('open');
    } finally {
      origin.down = false;
    }
  }, 30_000);

  it('serves a repeated request from the cache: hit/miss headers, its own request id, counted as backend "cache"', async () => {
    const cache = new MapCache();
    const edge = startEdge({ EMBED_CACHE_TTL: '60' }, filledBucket(), { cache });
    const request = { input: ['缓存命中吗', '第二句'], normalize: false };
    const first = await edge.request('/v1/embeddings', { body: request });
    expect(first.status).toBe(200);
    expect(first.headers.get('x-corom-cache')).toBe('miss');
    await Promise.all(edge.pending);
    expect(cache.entries.size).toBe(1);
    const second = await edge.request('/v1/embeddings', { body: { ...request, model: 'tiny-bert' } });
    expect(second.status).toBe(200);
    expect(second.headers.get('x-corom-cache')).toBe('hit');
    expect(second.headers.get('x-corom-backend')).toBe('wasm');
    expect(second.headers.get('x-request-id')).toBeTruthy();
    expect(second.headers.get('x-request-id')).not.toBe(first.headers.get('x-request-id'));
    expect(second.body).toEqual(first.body);
    // Another setting is another answer; an invalid request is the app's 400, never cached.
    const normalized = await edge.request('/v1/embeddings', { body: { ...request, normalize: true } });
    expect(normalized.headers.get('x-corom-cache')).toBe('miss');
    const invalid = await edge.request('/v1/embeddings', { body: { input: [] } });
    expect(invalid.status).toBe(400);
    await Promise.all(edge.pending);
    expect(cache.entries.size).toBe(2);

    const metrics = await edge.request('/metrics');
    expect(series(metrics.body, 'corom_answers_total')).toEqual({ '{model="tiny-bert",backend="wasm"}': 2, '{model="tiny-bert",backend="cache"}': 1 });
    expect(series(metrics.body, 'corom_http_requests_total')['{route="/v1/embeddings",method="POST",status="200"}']).toBe(3);
  }, 30_000);

  it('asks for the key once, before R2 or an origin is touched', async () => {
    const bucket = filledBucket();
    const edge = startEdge({ ORIGINS: origin.url, ORIGIN_API_KEY: ORIGIN_KEY }, bucket);
    const postsBefore = origin.posts.length;
    const noKey = await edge.request('/v1/embeddings', { body: { input: 'x' }, key: null });
    expect(noKey.status).toBe(401);
    expect(noKey.headers.get('x-request-id')).toBeTruthy();
    const wrongKey = await edge.request('/v1/embeddings', { body: { input: 'x' }, key: 'nope' });
    expect(wrongKey.status).toBe(401);
    expect(origin.posts.length).toBe(postsBefore);
    const metrics = await edge.request('/metrics');
    expect(series(metrics.body, 'corom_http_errors_total')).toEqual({ '{route="/v1/embeddings",status="401",type="authentication_error"}': 2 });
    expect(series(metrics.body, 'corom_answers_total')).toEqual({});
  });

  it('answers 503 naming the R2 key while the model is missing, and serves it once it is uploaded', async () => {
    const bucket = new MemoryBucket();
    const edge = startEdge({}, bucket);
    const missing = await edge.request('/v1/embeddings', { body: { input: 'x' } });
    expect(missing.status).toBe(503);
    expect(missing.body.error.message).toContain('r2://MODELS/models/tiny-bert/corom.json');
    expect(missing.headers.get('x-request-id')).toBeTruthy();
    // With keys configured an unauthenticated probe learns only that it is not ready (the reason,
    // with its R2 key, is in the authenticated 503 above).
    const ready = await edge.request('/ready', { key: null });
    expect(ready.status).toBe(503);
    expect(ready.body.error.message).toBe('Not ready');
    expect((await edge.request('/health', { key: null })).status).toBe(200);

    for (const [key, bytes] of objects) bucket.objects.set(key, bytes);
    const uploaded = await edge.request('/v1/embeddings', { body: { input: TEXTS, normalize: false } });
    expect(uploaded.status, JSON.stringify(uploaded.body)).toBe(200);
    expectReference(vectorsOf(uploaded.body));
    expect((await edge.request('/ready', { key: null })).status).toBe(200);
  }, 30_000);

  it('refuses a model over the memory budget with a 503 that says why, when no origin serves it', async () => {
    const edge = startEdge({ MEMORY_BUDGET_MB: '0.001', ORIGINS: origin.url, ORIGIN_API_KEY: ORIGIN_KEY }, filledBucket());
    origin.down = true;
    try {
      const response = await edge.request('/v1/embeddings', { body: { input: 'x' } });
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('30');
      expect(response.body.error.code).toBe('model_over_memory_budget');
      expect(response.body.error.message).toContain('MEMORY_BUDGET_MB of 0.0 MB');
      expect(response.body.error.message).toContain('No origin answered either (1 configured)');
      const ready = await edge.request('/ready', { key: null });
      expect(ready.status).toBe(503);
      expect(ready.body.error.message).toBe('Not ready');
      // Tokenizing needs no session.
      expect((await edge.request('/tokenize', { body: { inputs: 'x' } })).status).toBe(200);
    } finally {
      origin.down = false;
    }
    // With the origin back, the same Worker is ready and answers from it.
    const ready = await edge.request('/ready', { key: null });
    expect(ready.status).toBe(200);
  });
});
