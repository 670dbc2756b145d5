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

interface BadCase {
  name: string;
  path?: string;
  method?: string;
  body?: unknown;
  contentType?: string;
  status: number;
  message: RegExp;
  param?: string | null;
}

const many = (n: number): string[] => Array.from({ length: n }, (_, i) => `句子${i}`);

const BAD_INPUTS: BadCase[] = [
  { name: 'malformed JSON', body: '{"input": ', status: 400, message: /not valid JSON/ },
  { name: 'empty body', body: '', status: 400, message: /not valid JSON/ },
  { name: 'body is an array', body: [], status: 400, message: /request body must be a JSON object/ },
  { name: 'body is a string', body: '"hello"', status: 400, message: /request body must be a JSON object/ },
  { name: 'input missing', body: { model: 'tiny-bert' }, status: 400, message: /^input is required/, param: 'input' },
  { name: 'input empty string', body: { input: '' }, status: 400, message: /^input must not be an empty string/, param: 'input' },
  { name: 'input empty array', body: { input: [] }, status: 400, message: /^input must not be an empty array/, param: 'input' },
  { name: 'empty string in list', body: { input: ['a', ''] }, status: 400, message: /^input\[1\] must not be an empty string/, param: 'input[1]' },
  { name: 'too many inputs', body: { input: many(2049) }, status: 400, message: /2049 items; at most 2048/, param: 'input' },
  { name: 'too many token arrays', body: { input: Array.from({ length: 2049 }, () => [101]) }, status: 400, message: /at most 2048/ },
  { name: 'input is a boolean', body: { input: true }, status: 400, message: /input must be a string, an array of strings, an array of token ids/ },
  { name: 'input is null', body: { input: null }, status: 400, message: /input must be a string.*got null/ },
  { name: 'input is an object', body: { input: { text: 'a' } }, status: 400, message: /input must be .*got object/ },
  { name: 'boolean in list', body: { input: [true] }, status: 400, message: /input\[0\] must be a string, a token id or a token-id array, got boolean/, param: 'input[0]' },
  { name: 'mixed text and ids', body: { input: ['a', 1] }, status: 400, message: /input\[1\] is a number but input\[0\] is a string; .*must not mix/, param: 'input[1]' },
  { name: 'fractional token id', body: { input: [101, 1.5] }, status: 400, message: /input\[1\] must be a token id \(a non-negative integer\), got 1\.5/, param: 'input[1]' },
  { name: 'negative token id', body: { input: [-1] }, status: 400, message: /input\[0\] must be a token id .*got -1/ },
  { name: 'token id beyond vocab', body: { input: [101, 21128] }, status: 400, message: /input\[1\]: token id 21128 is outside this model's vocabulary; ids must be integers from 0 to 21127/, param: 'input[1]' },
  { name: 'nested token id beyond vocab', body: { input: [[101], [5, 99999]] }, status: 400, message: /input\[1\]\[1\]: token id 99999/, param: 'input[1][1]' },
  { name: 'empty token-id array', body: { input: [[101], []] }, status: 400, message: /input\[1\] must not be an empty token-id array/ },
  { name: 'string inside token array', body: { input: [[101, 'a']] }, status: 400, message: /input\[0\]\[1\] must be a token id/ },
  { name: 'unknown model', body: { input: 'a', model: 'text-embedding-3-small' }, status: 404, message: /model 'text-embedding-3-small' does not exist.*'tiny-bert'/, param: 'model' },
  { name: 'model not a string', body: { input: 'a', model: 5 }, status: 400, message: /^model must be a string/, param: 'model' },
  { name: 'bad encoding_format', body: { input: 'a', encoding_format: 'int8' }, status: 400, message: /encoding_format must be 'float' or 'base64'/, param: 'encoding_format' },
  { name: 'dimensions 0', body: { input: 'a', dimensions: 0 }, status: 400, message: /dimensions must be an integer between 1/, param: 'dimensions' },
  { name: 'dimensions above hidden', body: { input: 'a', dimensions: 33 }, status: 400, message: /dimensions must be an integer between 1 and 32 for model 'tiny-bert', got 33/ },
  { name: 'dimensions fractional', body: { input: 'a', dimensions: 1.5 }, status: 400, message: /dimensions must be an integer/ },
  { name: 'dimensions as string', body: { input: 'a', dimensions: '8' }, status: 400, message: /dimensions must be an integer/ },
  { name: 'normalize not boolean', body: { input: 'a', normalize: 'no' }, status: 400, message: /normalize must be true or false/ },
  { name: 'user not string', body: { input: 'a', user: 42 }, status: 400, message: /user must be a string/ },
  { name: 'form content type', body: 'input=a', contentType: 'application/x-www-form-urlencoded', status: 415, message: /Content-Type must be 'application\/json'/ },
  { name: 'text/plain content type', body: '{"input":"a"}', contentType: 'text/plain', status: 415, message: /Content-Type must be/ },
  { name: 'rerank: query missing', path: '/v1/rerank', body: { documents: ['a'] }, status: 400, message: /^query is required/, param: 'query' },
  { name: 'rerank: no documents', path: '/v1/rerank', body: { query: 'q', documents: [] }, status: 400, message: /documents must not be an empty array/ },
  { name: 'rerank: bad document', path: '/v1/rerank', body: { query: 'q', documents: [{ txt: 'a' }] }, status: 400, message: /documents\[0\] must be a string or an object \{"text": string\}/ },
  { name: 'rerank: top_n 0', path: '/v1/rerank', body: { query: 'q', documents: ['a'], top_n: 0 }, status: 400, message: /top_n must be a positive integer/ },
  { name: 'pipeline: source missing', path: '/v1/sentence-embedding', body: { input: {} }, status: 400, message: /input\.source_sentence is required/ },
  { name: 'pipeline: source is a string', path: '/v1/sentence-embedding', body: { input: { source_sentence: 'x' } }, status: 400, message: /input\.source_sentence must be an array of strings/ },
  { name: 'pipeline: empty compare sentence', path: '/v1/sentence-embedding', body: { input: { source_sentence: ['x'], sentences_to_compare: [''] } }, status: 400, message: /input\.sentences_to_compare\[0\] must not be an empty string/ },
  { name: 'tokenize: token ids', path: '/tokenize', body: { inputs: [1, 2] }, status: 400, message: /inputs\[0\] must be a string, got number/ },
  { name: 'unknown model id', path: '/v1/models/nope', method: 'GET', status: 404, message: /model 'nope' does not exist/ },
  { name: 'wrong method', path: '/v1/embeddings', method: 'PUT', body: { input: 'a' }, status: 405, message: /Method PUT is not allowed on \/v1\/embeddings; use POST/ },
  { name: 'unknown route', path: '/v1/completions', body: { prompt: 'a' }, status: 404, message: /Unknown route: POST \/v1\/completions/ },
];

describe('bad input', () => {
  it.each(BAD_INPUTS)('$name -> $status', async (c) => {
    const res = await fetch(`${server.url}${(c.path ?? '/v1/embeddings').slice(1)}`, {
      method: c.method ?? 'POST',
      headers: c.body === undefined ? {} : { 'Content-Type': c.contentType ?? 'application/json' },
      body: c.body === undefined ? undefined : typeof c.body === 'string' ? c.body : JSON.stringify(c.body),
    });
    const body = (await res.json()) as { error: { message: string; type: string; param: string | null; code: string | null } };
    expect(res.status).toBe(c.status);
    expect(body.error.message).toMatch(c.message);
    expect(typeof body.error.type).toBe('string');
    if (c.param !== undefined) expect(body.error.param).toBe(c.param);
    expect(res.headers.get('x-request-id')).toMatch(/\S/);
    expect(JSON.stringify(body)).not.toMatch(/\bat .*\.(ts|js):\d+|node_modules|\/work\//);
  });

  it('still serves correctly after all of them', async () => {
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
    expect(after).toMatch(/^corom_http_errors_total\{route="\/v1\/embeddings",status="400",type="invalid_request_error"\} \d+$/m);
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
    expect(info.batching).toMatchObject({ enabled: true, max_batch_tokens: 8192, max_batch_size: 64, max_queue: 256 });
    const metrics = await fetch(`${server.url}metrics`);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  });
});
