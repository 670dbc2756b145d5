/**
 * The app against small deterministic in-test backends (no engine): readiness, text-only models,
 * several models, failure isolation, timeouts. In-process through app.request(), no sockets.
 */
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/http/app.js';
import type { ModelInfo } from '../../src/engine/types.js';
import type { TextModel, TokenModel } from '../../src/core/served-model.js';

function info(id: string, dimensions = 4): ModelInfo {
  return { id, dimensions, maxLength: 8, pooling: 'cls', dtype: 'fp32', backend: 'test', vocabSize: 1000 };
}

/** Vector of a sequence: [length, first content id, sum of ids, 1] -- deterministic and order-revealing. */
function tokenModel(id: string, options: { failOn?: number; delayMs?: number } = {}): TokenModel & { calls: Int32Array[][] } {
  const calls: Int32Array[][] = [];
  return {
    kind: 'tokens',
    info: info(id),
    special: { cls: 101, sep: 102 },
    calls,
    tokenize: (texts) => texts.map((t) => Int32Array.from([101, ...Array.from(t.slice(0, 6), (ch) => ch.charCodeAt(0) % 1000), 102])),
    tokenStrings: (ids) => Array.from(ids, (x) => `t${x}`),
    embedTokens: async (sequences) => {
      calls.push([...sequences]);
      if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
      if (options.failOn !== undefined && sequences.some((s) => s.includes(options.failOn!))) throw new Error('/secret/path/model.onnx: kernel failure');
      return { vectors: sequences.map((s) => Float32Array.from([s.length, s[1] ?? 0, s.reduce((a, b) => a + b, 0), 1])), backend: 'fake' };
    },
  };
}

function textModel(id: string): TextModel {
  return {
    kind: 'text',
    info: info(id, 3),
    embedTexts: async (texts) => ({ vectors: texts.map((t) => Float32Array.from([t.length, 0, 0])), tokenCounts: texts.map((t) => t.length + 2), backend: 'fake-text' }),
  };
}

async function call(app: ReturnType<typeof createApp>, path: string, body?: unknown) {
  const res = await app.request(path, body === undefined ? {} : { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, headers: res.headers, json: (await res.json()) as any };
}

describe('createApp with in-test backends', () => {
  it('is live but not ready while models load, then ready', async () => {
    let release!: (models: TokenModel[]) => void;
    const app = createApp({ models: new Promise((resolve) => (release = resolve)) });
    expect((await call(app, '/health')).status).toBe(200);
    const ready = await call(app, '/ready');
    expect(ready.status).toBe(503);
    expect(ready.json.error.message).toMatch(/still loading/);
    const early = await call(app, '/v1/embeddings', { input: 'a' });
    expect(early.status).toBe(503);
    expect(early.json.error.code).toBe('model_not_ready');
    release([tokenModel('m')]);
    await new Promise((r) => setTimeout(r, 0));
    expect((await call(app, '/ready')).status).toBe(200);
    expect((await call(app, '/v1/embeddings', { input: 'a' })).status).toBe(200);
  });

  it('reports a failed load on /ready without crashing', async () => {
    const app = createApp({ models: Promise.reject(new Error('model.onnx: truncated')) });
    await new Promise((r) => setTimeout(r, 0));
    const ready = await call(app, '/ready');
    expect(ready.status).toBe(503);
    expect(ready.json.error.message).toMatch(/failed to load: model.onnx: truncated/);
  });

  it('serves several models by id, the first by default; the slash route finds owner/name ids', async () => {
    const app = createApp({ models: [tokenModel('first'), tokenModel('damo/second')] });
    expect((await call(app, '/v1/embeddings', { input: 'a' })).json.model).toBe('first');
    expect((await call(app, '/v1/embeddings', { input: 'a', model: 'damo/second' })).json.model).toBe('damo/second');
    expect((await call(app, '/v1/models')).json.data.map((m: { id: string }) => m.id)).toEqual(['first', 'damo/second']);
    expect((await call(app, '/v1/models/damo/second')).json.id).toBe('damo/second');
    expect((await call(app, '/v1/models/first')).json.id).toBe('first');
  });

  it('a text-only model takes text but answers 400 for token ids and /tokenize', async () => {
    const app = createApp({ models: [textModel('remote')] });
    const ok = await call(app, '/v1/embeddings', { input: ['abcd', 'ab'], normalize: false, encoding_format: 'float' });
    expect(ok.status).toBe(200);
    expect(ok.json.data.map((d: { embedding: number[] }) => d.embedding[0])).toEqual([4, 2]);
    expect(ok.json.usage.prompt_tokens).toBe(10);
    const ids = await call(app, '/v1/embeddings', { input: [101, 5, 102] });
    expect(ids.status).toBe(400);
    expect(ids.json.error).toMatchObject({ param: 'input', code: 'token_ids_not_supported' });
    expect(ids.json.error.message).toMatch(/takes text only/);
    const tok = await call(app, '/tokenize', { inputs: 'abc' });
    expect(tok.status).toBe(400);
    expect((await call(app, '/v1/models/remote')).json.accepts_token_ids).toBe(false);
  });

  it('a failing batch answers 500 with the request id to its own requests only, and logs the cause server-side', async () => {
    const logs: string[] = [];
    const model = tokenModel('m', { delayMs: 5, failOn: 666 });
    const app = createApp({ models: [model], batching: { maxBatchSize: 1 }, log: (l) => logs.push(l) });
    const [good, bad, good2] = await Promise.all([
      call(app, '/v1/embeddings', { input: [[7, 8]] }),
      call(app, '/v1/embeddings', { input: [[666]] }),
      call(app, '/v1/embeddings', { input: [[9]] }),
    ]);
    expect(good.status).toBe(200);
    expect(good2.status).toBe(200);
    expect(bad.status).toBe(500);
    const id = bad.headers.get('x-request-id')!;
    expect(bad.json.error.message).toContain(id);
    expect(bad.json.error.code).toBe('inference_failed');
    expect(JSON.stringify(bad.json)).not.toMatch(/secret|kernel/);
    expect(logs.join('\n')).toMatch(new RegExp(`kernel failure`));
    expect(logs.join('\n')).toContain(id);
  });

  it('a request that waits past the timeout gets 503 with Retry-After; the queue keeps working', async () => {
    const app = createApp({ models: [tokenModel('m', { delayMs: 150 })], limits: { requestTimeoutMs: 50 }, batching: { maxBatchSize: 1 } });
    const res = await call(app, '/v1/embeddings', { input: 'slow' });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(res.json.error).toMatchObject({ type: 'timeout_error', code: 'request_timeout' });
  });

  it('token ids are wrapped in [CLS]/[SEP] only when missing, and cut to max length keeping [SEP]', async () => {
    const model = tokenModel('m');
    const app = createApp({ models: [model], batching: { batchWaitMs: 0 } });
    await call(app, '/v1/embeddings', { input: [[5, 6], [101, 5, 6, 102], [101, 5], Array.from({ length: 20 }, (_, i) => i + 1)] });
    const seen = model.calls.flat().map((s) => Array.from(s));
    expect(seen).toContainEqual([101, 5, 6, 102]);
    expect(seen.filter((s) => s.join() === '101,5,6,102')).toHaveLength(2);
    expect(seen).toContainEqual([101, 5, 102]);
    expect(seen).toContainEqual([101, 1, 2, 3, 4, 5, 6, 102]);
  });

  it('normalize: false returns raw vectors, base64 decodes to the same float32 values', async () => {
    const app = createApp({ models: [tokenModel('m')] });
    const raw = await call(app, '/v1/embeddings', { input: [[5, 6]], normalize: false, encoding_format: 'float' });
    expect(raw.json.data[0].embedding).toEqual([4, 5, 214, 1]);
    const b64 = await call(app, '/v1/embeddings', { input: [[5, 6]], encoding_format: 'base64' });
    const bytes = Uint8Array.from(atob(b64.json.data[0].embedding), (c) => c.charCodeAt(0));
    const decoded = Array.from(new Float32Array(bytes.buffer));
    const norm = Math.hypot(4, 5, 214, 1);
    decoded.forEach((x, i) => expect(x).toBeCloseTo([4, 5, 214, 1][i] / norm, 6));
  });
});
