/**
 * The AppHooks contract of createApp (src/http/options.ts), in-process with fake served models:
 * a models loader retried after a failure, extra middleware, readiness / info / health hooks,
 * the probes with and without API keys, and x-corom-backend with corom_answers_total.
 */
import type { MiddlewareHandler } from 'hono';
import { describe, expect, it } from 'vitest';
import type { AppEnv } from '../../src/http/app-env.js';
import { createApp, type CoromApp } from '../../src/http/app.js';
import type { ServedModel } from '../../src/core/served-model.js';
import { fakeTextModel, fakeTokenModel } from './fake-models.js';

async function call(app: CoromApp, path: string, init: { body?: unknown; headers?: Record<string, string>; method?: string } = {}) {
  const res = await app.request(path, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: { ...(init.body === undefined ? {} : { 'Content-Type': 'application/json' }), ...init.headers },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: (text.startsWith('{') ? JSON.parse(text) : undefined) as any };
}

/** Polls `check` on the event loop until it holds (bounded). */
async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function metricLine(text: string, prefix: string): string | undefined {
  return text.split('\n').find((l) => l.startsWith(prefix));
}

describe('models loader', () => {
  it('is called at creation; after a rejection the next request says why and calls it again, one call at a time', async () => {
    /** Each call of the loader, settled by the test. */
    const calls: Array<{ resolve(models: readonly ServedModel[]): void; reject(err: Error): void }> = [];
    const loader = (): Promise<readonly ServedModel[]> => new Promise((resolve, reject) => calls.push({ resolve, reject }));
    const tick = () => new Promise((r) => setTimeout(r, 0));
    const app = createApp({ models: loader });
    await tick();
    expect(calls).toHaveLength(1);
    // Loading: 503 without a new call.
    expect((await call(app, '/v1/embeddings', { body: { input: 'a' } })).json.error.message).toMatch(/still loading/);
    expect(calls).toHaveLength(1);
    calls[0]!.reject(new Error('R2 object corom-base.onnx missing'));
    await tick();
    // This request finds the failure: it answers 503 with the reason and starts a second call.
    const first = await call(app, '/v1/embeddings', { body: { input: 'a' } });
    expect(first.status).toBe(503);
    expect(first.json.error).toMatchObject({ code: 'model_not_ready' });
    expect(first.json.error.message).toMatch(/the models failed to load: R2 object corom-base.onnx missing/);
    expect(calls).toHaveLength(2);
    // While that call is in flight, more requests do not start another.
    for (let i = 0; i < 5; i++) expect((await call(app, '/v1/embeddings', { body: { input: 'a' } })).status).toBe(503);
    expect((await call(app, '/ready')).json.error.message).toMatch(/failed to load: R2 object corom-base.onnx missing; loading them again/);
    expect(calls).toHaveLength(2);
    calls[1]!.reject(new Error('still missing'));
    await tick();
    // /ready finds the second failure and calls the loader again; this time it works.
    const down = await call(app, '/ready');
    expect(down.status).toBe(503);
    expect(down.json.error.message).toMatch(/still missing/);
    expect(calls).toHaveLength(3);
    calls[2]!.resolve([fakeTokenModel()]);
    await tick();
    expect((await call(app, '/ready')).json).toEqual({ status: 'ready', models: ['tiny-bert'] });
    expect((await call(app, '/v1/embeddings', { body: { input: 'a' } })).status).toBe(200);
    expect(calls).toHaveLength(3);
  });

  it('a loader that throws synchronously is a failure like a rejection', async () => {
    let calls = 0;
    const app = createApp({
      models: () => {
        calls++;
        throw new Error('no binding MODELS');
      },
    });
    await new Promise((r) => setTimeout(r, 0));
    expect((await call(app, '/ready')).json.error.message).toBe('Not ready: the models failed to load: no binding MODELS');
    expect(calls).toBe(2);
  });

  it('a rejected promise (not a loader) stays failed', async () => {
    const app = createApp({ models: Promise.reject(new Error('bad file')) });
    await until(async () => (await call(app, '/ready')).json.error.message.includes('bad file'), 'the failure');
    expect((await call(app, '/ready')).json.error.message).toBe('Not ready: the models failed to load: bad file');
  });
});

describe('middleware', () => {
  const cacheHit: MiddlewareHandler<AppEnv> = async (c, next) => {
    if (c.req.path === '/v1/embeddings' && c.req.header('x-cache-test') === 'hit') {
      c.header('x-corom-backend', 'cache');
      return c.json({ object: 'list', data: [], model: 'cached', usage: { prompt_tokens: 0, total_tokens: 0 } }, 200);
    }
    await next();
  };

  it('answers a request itself with x-request-id, counted by /metrics; other requests reach the routes', async () => {
    const app = createApp({ models: [fakeTokenModel()], middleware: [cacheHit] });
    const hit = await call(app, '/v1/embeddings', { body: { input: 'a' }, headers: { 'x-cache-test': 'hit', 'x-request-id': 'cache-req-1' } });
    expect(hit.status).toBe(200);
    expect(hit.json.model).toBe('cached');
    expect(hit.headers.get('x-request-id')).toBe('cache-req-1');
    expect(hit.headers.get('x-corom-backend')).toBe('cache');
    const miss = await call(app, '/v1/embeddings', { body: { input: 'a' } });
    expect(miss.json.model).toBe('tiny-bert');
    const metrics = (await call(app, '/metrics')).text;
    expect(metricLine(metrics, 'corom_http_requests_total{route="/v1/embeddings",method="POST",status="200"}')).toMatch(/ 2$/);
  });

  it('a raw Response from middleware still carries x-request-id', async () => {
    const raw: MiddlewareHandler<AppEnv> = async (c, next) => (c.req.path === '/raw' ? new Response('raw', { status: 202 }) : next());
    const app = createApp({ models: [fakeTokenModel()], middleware: [raw] });
    const res = await app.request('/raw');
    expect(res.status).toBe(202);
    expect(res.headers.get('x-request-id')).toMatch(/\S/);
  });

  it('runs after auth and the body limit', async () => {
    let reached = 0;
    const counting: MiddlewareHandler<AppEnv> = async (_c, next) => {
      reached++;
      await next();
    };
    const app = createApp({ models: [fakeTokenModel()], middleware: [counting], apiKeys: ['k'], limits: { maxBodyBytes: 50 } });
    expect((await call(app, '/v1/embeddings', { body: { input: 'a' } })).status).toBe(401);
    expect((await call(app, '/v1/embeddings', { body: { input: 'a'.repeat(100) }, headers: { Authorization: 'Bearer k' } })).status).toBe(413);
    expect(reached).toBe(0);
    expect((await call(app, '/v1/embeddings', { body: { input: 'a' }, headers: { Authorization: 'Bearer k' } })).status).toBe(200);
    expect(reached).toBe(1);
  });
});

describe('readiness, info and health hooks', () => {
  it('readiness: a string makes /ready 503 with that reason; undefined is ready', async () => {
    let reason: string | undefined = 'origin pool empty';
    const app = createApp({ models: [fakeTokenModel()], readiness: async () => reason });
    const down = await call(app, '/ready');
    expect(down.status).toBe(503);
    expect(down.json.error).toMatchObject({ code: 'model_not_ready', message: 'Not ready: origin pool empty' });
    expect(down.headers.get('retry-after')).toBe('1');
    reason = undefined;
    expect((await call(app, '/ready')).json).toEqual({ status: 'ready', models: ['tiny-bert'] });
    const throwing = createApp({ models: [fakeTokenModel()], readiness: async () => Promise.reject(new Error('KV unreachable')) });
    const failed = await call(throwing, '/ready');
    expect(failed.status).toBe(503);
    expect(failed.json.error.message).toBe('Not ready: readiness check failed: KV unreachable');
  });

  it('info: extra fields merged into /info beside the service fields', async () => {
    const app = createApp({ models: [fakeTokenModel()], info: async () => ({ edge: { cache: 'on', origins: 2 } }) });
    const info = (await call(app, '/info')).json;
    expect(info.edge).toEqual({ cache: 'on', origins: 2 });
    expect(info).toMatchObject({ name: 'corom-edge', ready: true, batching: { max_batch_tokens: 16384, max_batch_size: 256 } });
  });

  it('health: extra fields without API keys; with keys /health and /ready say only their status', async () => {
    const health = () => ({ wasm_memory_mb: 42 });
    const open = createApp({ models: [fakeTokenModel()], health });
    expect((await call(open, '/health')).json).toEqual({ status: 'ok', wasm_memory_mb: 42 });
    expect((await call(open, '/ready')).json).toEqual({ status: 'ready', models: ['tiny-bert'] });

    const keyed = createApp({ models: [fakeTokenModel()], health, apiKeys: ['k'], readiness: async () => undefined });
    expect((await call(keyed, '/health')).json).toEqual({ status: 'ok' });
    expect((await call(keyed, '/ready')).json).toEqual({ status: 'ready' });
    const failing = createApp({ models: Promise.reject(new Error('/srv/models/secret.onnx: bad')), apiKeys: ['k'] });
    await until(async () => (await call(failing, '/ready')).status === 503 && !(await call(failing, '/ready')).text.includes('loading'), 'the failure');
    const down = await call(failing, '/ready');
    expect(down.json.error).toMatchObject({ code: 'model_not_ready', message: 'Not ready' });
    expect(down.text).not.toMatch(/secret/);
  });
});

describe('x-corom-backend and corom_answers_total', () => {
  it('names the backend of the batches that answered, per route, and counts answers per model and backend', async () => {
    const app = createApp({ models: [fakeTokenModel({ backend: 'onnxruntime-node/cpu' }), fakeTextModel({ backend: 'workers-ai' })] });
    const embed = await call(app, '/v1/embeddings', { body: { input: ['a', 'b'] } });
    expect(embed.headers.get('x-corom-backend')).toBe('onnxruntime-node/cpu');
    const rerank = await call(app, '/v1/rerank', { body: { query: 'q', documents: ['a'], model: 'text-only' } });
    expect(rerank.headers.get('x-corom-backend')).toBe('workers-ai');
    const pipeline = await call(app, '/v1/sentence-embedding', { body: { input: { source_sentence: ['a'], sentences_to_compare: ['b'] } } });
    expect(pipeline.headers.get('x-corom-backend')).toBe('onnxruntime-node/cpu');
    const metrics = (await call(app, '/metrics')).text;
    expect(metricLine(metrics, 'corom_answers_total{model="tiny-bert",backend="onnxruntime-node/cpu"}')).toMatch(/ 2$/);
    expect(metricLine(metrics, 'corom_answers_total{model="text-only",backend="workers-ai"}')).toMatch(/ 1$/);
    // Errors are not answers.
    await call(app, '/v1/embeddings', { body: { input: '' } });
    expect(metricLine((await call(app, '/metrics')).text, 'corom_answers_total{model="tiny-bert"')).toMatch(/ 2$/);
  });

  it('comma-joins several backends when batches of one request ran on different backends', async () => {
    const model = fakeTokenModel({ backend: 'unused' });
    let batch = 0;
    const alternating: ServedModel = { ...model, embedTokens: async (sequences) => ({ vectors: (await model.embedTokens(sequences)).vectors, backend: batch++ % 2 === 0 ? 'origin:a' : 'isolate' }) };
    const app = createApp({ models: [alternating], batching: { maxBatchSize: 1 } });
    const answer = await call(app, '/v1/embeddings', { body: { input: ['a', 'b', 'c'] } });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-corom-backend')).toBe('origin:a,isolate');
  });

  it('CORS exposes x-corom-backend to browsers', async () => {
    const app = createApp({ models: [fakeTokenModel()], corsOrigins: ['*'] });
    const res = await app.request('/v1/embeddings', { method: 'POST', headers: { Origin: 'https://x.example', 'Content-Type': 'application/json' }, body: '{"input":"a"}' });
    expect(res.headers.get('access-control-expose-headers')?.toLowerCase()).toContain('x-corom-backend');
  });
});

describe('waitForModels', () => {
  it('makes a request wait for the load, and retries a failed loader first instead of answering 503', async () => {
    let calls = 0;
    let release: (() => void) | undefined;
    const loader = (): Promise<readonly ServedModel[]> => {
      calls++;
      if (calls === 1) return Promise.reject(new Error('r2://MODELS/x: not found'));
      return new Promise((resolve) => (release = () => resolve([fakeTokenModel()])));
    };
    const app = createApp({ models: loader, waitForModels: true });
    // The first attempt failed; the next request starts a second one and waits for it.
    await new Promise((r) => setTimeout(r, 0));
    const pending = app.request('/v1/embeddings', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"input":"x"}' });
    for (let i = 0; i < 50 && !release; i++) await new Promise((r) => setTimeout(r, 5));
    expect(calls).toBe(2);
    expect((await app.request('/health')).status).toBe(200);
    release!();
    expect((await pending).status).toBe(200);
  });

  it('without it, the same request is a 503 while loading', async () => {
    const app = createApp({ models: () => new Promise(() => {}) });
    const response = await app.request('/v1/embeddings', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"input":"x"}' });
    expect(response.status).toBe(503);
  });
});

