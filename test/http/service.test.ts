/**
 * Acceptance on the real server and engine: bad input, auth, CORS, limits, overload, concurrency,
 * and the generated documentation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postJson, startServer, type TestServer } from './server-helpers.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.close();
});

function metricValue(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(name + ' ') || l.startsWith(name + '{'));
  return line ? Number(line.split(' ').pop()) : NaN;
}

// The bad-input table runs in-process against a fake model: test/http/errors-in-process.test.ts.
describe('the real engine', () => {
  it('serves the real engine correctly', async () => {
    const res = await postJson(`${server.url}v1/embeddings`, { input: ['吃完海鲜可以喝牛奶吗?'], encoding_format: 'float' });
    expect(res.status).toBe(200);
    const [reference] = await server.engine.embed(['吃完海鲜可以喝牛奶吗?'], { normalize: true });
    expect(Math.max(...res.json.data[0].embedding.map((x: number, i: number) => Math.abs(x - reference[i])))).toBeLessThan(1e-5);
  });
});

describe('concurrency and batching', () => {
  it('>= 200 concurrent requests: each succeeds or gets 429, none 5xx; batches merge requests', async () => {
    const before = await (await fetch(`${server.url}metrics`)).text();
    const sumBefore = metricValue(before, 'corom_batch_size_sum{model="tiny-bert"}') || 0;
    const countBefore = metricValue(before, 'corom_batch_size_count{model="tiny-bert"}') || 0;
    const requests = Array.from({ length: 240 }, (_, i) =>
      postJson(`${server.url}v1/embeddings`, { input: i % 3 === 0 ? [`第${i}个问题`, `另一个句子${i}`] : `请求${i}的文本内容`, encoding_format: 'float' }),
    );
    const results = await Promise.all(requests);
    const statuses = results.map((r) => r.status);
    expect(statuses.every((s) => s === 200 || s === 429)).toBe(true);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(0);
    for (const [i, r] of results.entries()) {
      if (r.status === 200) expect(r.json.data).toHaveLength(i % 3 === 0 ? 2 : 1);
    }
    // Each request's vectors are its own: spot-check against the engine.
    const [check] = await server.engine.embed(['请求1的文本内容'], { normalize: true });
    if (results[1].status === 200) expect(Math.abs(results[1].json.data[0].embedding[0] - check[0])).toBeLessThan(1e-5);

    const after = await (await fetch(`${server.url}metrics`)).text();
    const sum = metricValue(after, 'corom_batch_size_sum{model="tiny-bert"}') - sumBefore;
    const count = metricValue(after, 'corom_batch_size_count{model="tiny-bert"}') - countBefore;
    expect(count).toBeGreaterThan(0);
    expect(sum / count).toBeGreaterThan(1);
    expect(after).toMatch(/^corom_queue_depth\{model="tiny-bert"\} 0$/m);
    expect(after).toMatch(/^corom_inference_duration_seconds_count\{model="tiny-bert"\} \d+$/m);
    expect(after).toMatch(/^corom_batch_padded_tokens_bucket\{model="tiny-bert",le="\+Inf"\} \d+$/m);
    expect(after).toMatch(/^corom_http_request_duration_seconds_count\{route="\/v1\/embeddings"\} \d+$/m);
    expect(after).toMatch(/^corom_answers_total\{model="tiny-bert",backend="onnxruntime-node\/cpu"\} \d+$/m);
  });

  it('answers 429 with Retry-After at once when the queue is full', async () => {
    const tiny = await startServer({ batching: { maxQueue: 1, batchWaitMs: 2000 } });
    try {
      const first = postJson(`${tiny.url}v1/embeddings`, { input: 'first' });
      // Wait until the first request holds the only queue slot (it waits 2 s for company).
      for (let i = 0; i < 100; i++) {
        const metrics = await (await fetch(`${tiny.url}metrics`)).text();
        if (metricValue(metrics, 'corom_queue_requests{model="tiny-bert"}') === 1) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      const started = performance.now();
      const second = await postJson(`${tiny.url}v1/embeddings`, { input: 'second' });
      expect(performance.now() - started).toBeLessThan(1000);
      expect(second.status).toBe(429);
      expect(second.headers.get('retry-after')).toBe('1');
      expect(second.json.error).toMatchObject({ type: 'rate_limit_error', code: 'queue_full' });
      expect((await first).status).toBe(200);
    } finally {
      await tiny.close();
    }
  });
});

describe('limits, auth, CORS, documentation', () => {
  it('413 for a body over the limit, declared or streamed', async () => {
    const small = await startServer({ limits: { maxBodyBytes: 1000 } });
    try {
      const big = JSON.stringify({ input: 'x'.repeat(2000) });
      const declared = await postJson(`${small.url}v1/embeddings`, big);
      expect(declared.status).toBe(413);
      expect(declared.json.error.message).toMatch(/exceeds 1000 bytes/);
      const bytes = new TextEncoder().encode(big);
      const streamed = await fetch(`${small.url}v1/embeddings`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: new ReadableStream({
          start(controller) {
            controller.enqueue(bytes);
            controller.close();
          },
        }),
        duplex: 'half',
      } as RequestInit);
      expect(streamed.status).toBe(413);
      expect(((await streamed.json()) as { error: { code: string } }).error.code).toBe('request_too_large');
      expect((await postJson(`${small.url}v1/embeddings`, { input: 'fits' })).status).toBe(200);
    } finally {
      await small.close();
    }
  });

  it('API keys: 401 without or with a wrong key, open probes and docs, any configured key works', async () => {
    const locked = await startServer({ apiKeys: ['key-one', 'key-two'] });
    try {
      const none = await postJson(`${locked.url}v1/embeddings`, { input: 'a' });
      expect(none.status).toBe(401);
      expect(none.json.error).toMatchObject({ type: 'authentication_error', code: 'invalid_api_key' });
      expect(none.json.error.message).toMatch(/Authorization: Bearer/);
      expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
      const wrong = await postJson(`${locked.url}v1/embeddings`, { input: 'a' }, { Authorization: 'Bearer key-one-x' });
      expect(wrong.status).toBe(401);
      expect(wrong.json.error.message).toBe('Invalid API key');
      expect(JSON.stringify(wrong.json)).not.toContain('key-one');
      expect((await postJson(`${locked.url}v1/embeddings`, { input: 'a' }, { Authorization: 'Bearer key-two' })).status).toBe(200);
      expect((await postJson(`${locked.url}v1/embeddings`, { input: 'a' }, { Authorization: 'bearer key-one' })).status).toBe(200);
      for (const open of ['health', 'ready', 'openapi.json', 'docs', '']) expect((await fetch(`${locked.url}${open}`)).status).toBe(200);
      for (const closed of ['metrics', 'info', 'v1/models']) expect((await fetch(`${locked.url}${closed}`)).status).toBe(401);
    } finally {
      await locked.close();
    }
  });

  it('CORS: no headers by default; configured origins get them, others do not', async () => {
    const plain = await fetch(`${server.url}health`, { headers: { Origin: 'https://app.example' } });
    expect(plain.headers.get('access-control-allow-origin')).toBeNull();

    const open = await startServer({ corsOrigins: ['https://app.example'], apiKeys: ['k'] });
    try {
      const preflight = await fetch(`${open.url}v1/embeddings`, {
        method: 'OPTIONS',
        headers: { Origin: 'https://app.example', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization,content-type' },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example');
      expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
      const allowed = await postJson(`${open.url}v1/embeddings`, { input: 'a' }, { Origin: 'https://app.example', Authorization: 'Bearer k' });
      expect(allowed.status).toBe(200);
      expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example');
      expect(allowed.headers.get('access-control-expose-headers')?.toLowerCase()).toContain('x-request-id');
      const other = await fetch(`${open.url}health`, { headers: { Origin: 'https://evil.example' } });
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await open.close();
    }
  });

  it('every response carries x-request-id, echoing a well-formed incoming one', async () => {
    const res = await fetch(`${server.url}health`, { headers: { 'X-Request-Id': 'trace-123' } });
    expect(res.headers.get('x-request-id')).toBe('trace-123');
    const generated = await fetch(`${server.url}nope`);
    expect(generated.status).toBe(404);
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('/openapi.json and /docs list every route', async () => {
    const doc = (await (await fetch(`${server.url}openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const page = await (await fetch(`${server.url}docs`)).text();
    const routes: Array<[string, string]> = [
      ['post', '/v1/embeddings'],
      ['get', '/v1/models'],
      ['get', '/v1/models/{id}'],
      ['post', '/v1/rerank'],
      ['post', '/v1/sentence-embedding'],
      ['post', '/tokenize'],
      ['get', '/health'],
      ['get', '/ready'],
      ['get', '/info'],
      ['get', '/metrics'],
      ['get', '/openapi.json'],
      ['get', '/docs'],
      ['get', '/'],
    ];
    for (const [method, path] of routes) {
      expect(doc.paths[path]?.[method], `${method} ${path} in openapi.json`).toBeDefined();
      expect(page).toContain(`<code>${method.toUpperCase()} ${path}</code>`);
    }
    const request = (doc.paths['/v1/embeddings'].post as { requestBody: { content: Record<string, unknown> } }).requestBody;
    expect(JSON.stringify(request)).toContain('EmbeddingRequest');
  });

  it('/ready, /info and /metrics describe the service', async () => {
    expect(await (await fetch(`${server.url}ready`)).json()).toEqual({ status: 'ready', models: ['tiny-bert'] });
    const info = (await (await fetch(`${server.url}info`)).json()) as Record<string, any>;
    expect(info.limits).toEqual({ max_inputs: 2048, max_body_bytes: 4194304, request_timeout_ms: 30000 });
    expect(info.batching).toMatchObject({ enabled: true, max_batch_tokens: 16384, max_batch_size: 256, max_queue: 256 });
    const metrics = await fetch(`${server.url}metrics`);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  });
});
