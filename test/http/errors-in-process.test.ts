/**
 * The HTTP error/validation table, in-process through app.request() with fake served models (no
 * sockets, no onnxruntime): every status/code a client can get from validation, the core's typed
 * errors (full queue, timeout, failed batch, not ready, unknown model, text-only model, bad token
 * id, abandoned request), auth, limits and routing. Socket-level cases (slow clients, raw HTTP,
 * real binary) stay in test/reliability.
 */
import { describe, expect, it } from 'vitest';
import {
  BatchFailedError,
  InvalidTokenIdError,
  NotReadyError,
  QueueFullError,
  QueueTimeoutError,
  RequestAbortedError,
  TokenIdsNotSupportedError,
  UnknownModelError,
  WrongModelTaskError,
} from '../../src/core/errors.js';
import { createApp, type CoromApp } from '../../src/http/app.js';
import { coreErrorToApiError } from '../../src/http/core-errors.js';
import type { AppOptions } from '../../src/http/options.js';
import { BAD_INPUTS } from './error-table.js';
import { fakeTextModel, fakeTokenModel } from './fake-models.js';

type ErrorJson = { error: { message: string; type: string; param: string | null; code: string | null } };

async function send(app: CoromApp, path: string, init: { method?: string; body?: string; contentType?: string; headers?: Record<string, string>; signal?: AbortSignal } = {}) {
  const headers: Record<string, string> = { ...(init.body !== undefined ? { 'Content-Type': init.contentType ?? 'application/json' } : {}), ...init.headers };
  const res = await app.request(path, { method: init.method ?? (init.body !== undefined ? 'POST' : 'GET'), headers, body: init.body, ...(init.signal ? { signal: init.signal } : {}) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: (text.startsWith('{') ? JSON.parse(text) : undefined) as ErrorJson };
}

const post = (app: CoromApp, path: string, body: unknown, init: { headers?: Record<string, string>; signal?: AbortSignal } = {}) =>
  send(app, path, { body: typeof body === 'string' ? body : JSON.stringify(body), ...init });

/** What every error answer must be: OpenAI's shape, a request id, no internals. */
function expectCleanError(answer: Awaited<ReturnType<typeof send>>, status: number, code?: string): ErrorJson['error'] {
  expect(answer.status, answer.text.slice(0, 300)).toBe(status);
  expect(answer.headers.get('x-request-id')).toMatch(/\S/);
  expect(Object.keys(answer.json.error).sort()).toEqual(['code', 'message', 'param', 'type']);
  expect(answer.json.error.message).toMatch(/\S/);
  for (const field of ['param', 'code'] as const) expect(['string', 'object']).toContain(typeof answer.json.error[field]);
  if (code !== undefined) expect(answer.json.error.code).toBe(code);
  expect(answer.text).not.toMatch(/\bat .*\.(ts|js):\d+|node_modules|\/work\/|\/secret\//);
  return answer.json.error;
}

const app = (options: Partial<AppOptions> = {}) => createApp({ models: [fakeTokenModel()], ...options });

describe('validation table (shared with the socket suite before: test/http/error-table.ts)', () => {
  const shared = app();
  it.each(BAD_INPUTS)('$name -> $status', async (c) => {
    const answer = await send(shared, c.path ?? '/v1/embeddings', {
      method: c.method ?? 'POST',
      ...(c.body === undefined ? {} : { body: typeof c.body === 'string' ? c.body : JSON.stringify(c.body), contentType: c.contentType ?? 'application/json' }),
    });
    const error = expectCleanError(answer, c.status);
    expect(error.message).toMatch(c.message);
    if (c.param !== undefined) expect(error.param).toBe(c.param);
  });

  it('still serves after all of them', async () => {
    const answer = await post(shared, '/v1/embeddings', { input: ['a', 'bc'] });
    expect(answer.status).toBe(200);
    expect((answer.json as unknown as { data: unknown[] }).data).toHaveLength(2);
  });
});

/** Hostile JSON bodies from test/reliability/hostile-input.test.ts that are about parsing, not sockets. */
const HOSTILE_BODIES: Array<{ name: string; path?: string; body: string; status: number }> = [
  { name: 'body is 10k nested arrays', body: '['.repeat(10_000) + ']'.repeat(10_000), status: 400 },
  { name: 'input is 10k nested objects', body: `{"input":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}`, status: 400 },
  { name: 'token id 1e400 (Infinity after parsing)', body: '{"input":[1e400]}', status: 400 },
  { name: 'token id 2^53+1', body: '{"input":[9007199254740993]}', status: 400 },
  { name: 'token id 1e-400 (0 after parsing)', body: '{"input":[101,1e-400,102]}', status: 200 },
  { name: 'nested token id 1e400', body: '{"input":[[101],[1e400]]}', status: 400 },
  { name: 'dimensions -0', body: '{"input":"a","dimensions":-0}', status: 400 },
  { name: 'dimensions NaN (not JSON)', body: '{"input":"a","dimensions":NaN}', status: 400 },
  { name: 'top_n 1e400', path: '/v1/rerank', body: '{"query":"q","documents":["a"],"top_n":1e400}', status: 400 },
  { name: 'model is an object', body: '{"input":"a","model":{"id":"x"}}', status: 400 },
  { name: 'model id with a lone surrogate', body: '{"input":"a","model":"\\ud800"}', status: 404 },
  { name: '__proto__ holding the input', body: '{"__proto__":{"input":"polluted"}}', status: 400 },
  { name: 'duplicate keys (last wins)', body: '{"input":"a","input":5}', status: 400 },
  { name: 'lone surrogates in texts', body: '{"input":["a\\udfff","\\udc00b\\ud800"]}', status: 200 },
  { name: 'only lone surrogates (no tokens after normalization)', body: '{"input":["a","\\udc00\\ud800"]}', status: 400 },
  { name: '5k token-id sequences', body: `{"input":[${new Array(5_000).fill('[101]').join(',')}]}`, status: 400 },
  { name: '100k token ids in one sequence (truncated, valid)', body: `{"input":[${new Array(100_000).fill('101').join(',')}]}`, status: 200 },
];

describe('hostile JSON bodies', () => {
  const shared = app();
  it.each(HOSTILE_BODIES)('$name -> $status', async (c) => {
    const answer = await post(shared, c.path ?? '/v1/embeddings', c.body);
    if (c.status === 200) expect(answer.status, answer.text.slice(0, 300)).toBe(200);
    else expectCleanError(answer, c.status);
  });
});

describe('core errors mapped to HTTP (src/http/core-errors.ts)', () => {
  it('full queue: 429 queue_full with Retry-After, naming the model', async () => {
    const slow = createApp({ models: [fakeTokenModel({ delayMs: 100 })], batching: { maxQueue: 1 } });
    const first = post(slow, '/v1/embeddings', { input: 'a' });
    await new Promise((r) => setTimeout(r, 10));
    const second = await post(slow, '/v1/embeddings', { input: 'b' });
    const error = expectCleanError(second, 429, 'queue_full');
    expect(error.type).toBe('rate_limit_error');
    expect(error.message).toMatch(/Model 'tiny-bert' is overloaded: 1 requests are already queued/);
    expect(second.headers.get('retry-after')).toBe('1');
    expect((await first).status).toBe(200);
  });

  it('deadline passed: 503 request_timeout (timeout_error) with Retry-After', async () => {
    const slow = createApp({ models: [fakeTokenModel({ delayMs: 200 })], limits: { requestTimeoutMs: 30 } });
    const answer = await post(slow, '/v1/embeddings', { input: 'a' });
    const error = expectCleanError(answer, 503, 'request_timeout');
    expect(error.type).toBe('timeout_error');
    expect(error.message).toMatch(/Model 'tiny-bert' did not answer within 30 ms/);
    expect(answer.headers.get('retry-after')).toBe('1');
  });

  it('failed batch: 500 inference_failed with the request id, never the backend message', async () => {
    const logs: string[] = [];
    const failing = createApp({ models: [fakeTokenModel({ failOn: 777 })], log: (l) => logs.push(l) });
    const answer = await post(failing, '/v1/embeddings', { input: [101, 777, 102] }, { headers: { 'x-request-id': 'req-fail-1' } });
    const error = expectCleanError(answer, 500, 'inference_failed');
    expect(error.message).toMatch(/request id req-fail-1/);
    expect(logs.join('\n')).toMatch(/inference failed for model tiny-bert .*req-fail-1.*kernel failure/);
    expect((await post(failing, '/v1/embeddings', { input: [101, 5, 102] })).status).toBe(200);
  });

  it('not ready while loading: 503 model_not_ready on model routes, /ready and /v1/models', async () => {
    const loading = createApp({ models: new Promise(() => {}) });
    for (const [path, body] of [['/v1/embeddings', { input: 'a' }], ['/v1/rerank', { query: 'q', documents: ['a'] }], ['/tokenize', { inputs: 'a' }]] as const) {
      const error = expectCleanError(await post(loading, path, body), 503, 'model_not_ready');
      expect(error.message).toMatch(/not ready: the models are still loading/);
    }
    expectCleanError(await send(loading, '/ready'), 503, 'model_not_ready');
    expectCleanError(await send(loading, '/v1/models'), 503, 'model_not_ready');
    expect((await send(loading, '/health')).status).toBe(200);
  });

  it('unknown model: 404 model_not_found naming the param, on every route form', async () => {
    const served = app();
    expect(expectCleanError(await post(served, '/v1/rerank', { query: 'q', documents: ['a'], model: 'nope' }), 404, 'model_not_found').param).toBe('model');
    expect(expectCleanError(await send(served, '/v1/models/owner/nope'), 404, 'model_not_found').param).toBe('id');
    expect(expectCleanError(await send(served, '/v1/models/nope'), 404, 'model_not_found').message).toMatch(/served models: 'tiny-bert'/);
  });

  it('text-only model: token ids and /tokenize are 400 token_ids_not_supported naming the field', async () => {
    const textOnly = createApp({ models: [fakeTextModel()] });
    const ids = expectCleanError(await post(textOnly, '/v1/embeddings', { input: [101, 5] }), 400, 'token_ids_not_supported');
    expect(ids.param).toBe('input');
    expect(ids.message).toMatch(/model 'text-only' takes text only/);
    expect(expectCleanError(await post(textOnly, '/v1/embeddings', { input: [[101], [5]] }), 400, 'token_ids_not_supported').param).toBe('input');
    expect(expectCleanError(await post(textOnly, '/tokenize', { inputs: 'a' }), 400, 'token_ids_not_supported').param).toBe('model');
    expect((await post(textOnly, '/v1/embeddings', { input: 'a' })).status).toBe(200);
  });

  it('token id outside the vocabulary: 400 invalid_token_id with its exact path', async () => {
    const error = expectCleanError(await post(app(), '/v1/embeddings', { input: [[101], [5, 21128]] }), 400, 'invalid_token_id');
    expect(error.param).toBe('input[1][1]');
    expect(error.message).toMatch(/^input\[1\]\[1\]: token id 21128 is outside this model's vocabulary/);
  });

  it('a client that goes away: 499 client_closed_request, and its queued work is never computed', async () => {
    const model = fakeTokenModel({ delayMs: 80 });
    const served = createApp({ models: [model], batching: { maxBatchSize: 1 } });
    const blocker = post(served, '/v1/embeddings', { input: 'x' });
    await new Promise((r) => setTimeout(r, 10));
    const controller = new AbortController();
    const abandoned = post(served, '/v1/embeddings', { input: 'abandoned' }, { signal: controller.signal });
    await new Promise((r) => setTimeout(r, 10));
    controller.abort();
    const answer = await abandoned;
    expectCleanError(answer, 499, 'client_closed_request');
    expect((await blocker).status).toBe(200);
    expect(model.batches.flat().some((s) => s.length === 'abandoned'.length + 2)).toBe(false);
  });
});

describe('auth, limits and routing', () => {
  it('401 invalid_api_key with WWW-Authenticate; probes stay open', async () => {
    const locked = app({ apiKeys: ['k1'] });
    const missing = expectCleanError(await post(locked, '/v1/embeddings', { input: 'a' }), 401, 'invalid_api_key');
    expect(missing.type).toBe('authentication_error');
    expectCleanError(await post(locked, '/v1/embeddings', { input: 'a' }, { headers: { Authorization: 'Bearer wrong' } }), 401, 'invalid_api_key');
    expectCleanError(await post(locked, '/v1/embeddings', { input: 'a' }, { headers: { Authorization: 'Basic abc' } }), 401, 'invalid_api_key');
    expect((await post(locked, '/v1/embeddings', { input: 'a' }, { headers: { Authorization: 'Bearer k1' } })).status).toBe(200);
    for (const path of ['/health', '/ready', '/openapi.json', '/docs']) expect((await send(locked, path)).status, path).toBe(200);
    for (const path of ['/info', '/metrics', '/v1/models']) expectCleanError(await send(locked, path), 401, 'invalid_api_key');
  });

  it('413 request_too_large over the body limit', async () => {
    const small = app({ limits: { maxBodyBytes: 100 } });
    expectCleanError(await post(small, '/v1/embeddings', { input: 'a'.repeat(200) }), 413, 'request_too_large');
    expect((await post(small, '/v1/embeddings', { input: 'fits' })).status).toBe(200);
  });

  it('405 with Allow, 404 unknown_route', async () => {
    const served = app();
    const wrong = await send(served, '/v1/embeddings', { method: 'GET' });
    expectCleanError(wrong, 405, 'method_not_allowed');
    expect(wrong.headers.get('allow')).toBe('POST');
    expectCleanError(await send(served, '/nope'), 404, 'unknown_route');
  });

  it('every error is counted in /metrics by route, status and type', async () => {
    const served = app();
    await post(served, '/v1/embeddings', { input: '' });
    await post(served, '/v1/embeddings', { input: 'a', model: 'nope' });
    const metrics = (await send(served, '/metrics')).text;
    expect(metrics).toMatch(/^corom_http_errors_total\{route="\/v1\/embeddings",status="400",type="invalid_request_error"\} 1$/m);
    expect(metrics).toMatch(/^corom_http_errors_total\{route="\/v1\/embeddings",status="404",type="not_found_error"\} 1$/m);
  });
});

describe('coreErrorToApiError covers every core error kind', () => {
  it.each([
    [new QueueFullError(3, 'm'), 429, 'queue_full', null],
    [new QueueTimeoutError(50, 'm'), 503, 'request_timeout', null],
    [new RequestAbortedError(), 499, 'client_closed_request', null],
    [new BatchFailedError(new Error('/secret/x'), 'm'), 500, 'inference_failed', null],
    [new NotReadyError('warming up'), 503, 'model_not_ready', null],
    [new UnknownModelError('x', ['m'], 'model'), 404, 'model_not_found', 'model'],
    [new WrongModelTaskError('ranker', 'rerank', 'embedding', 'model'), 400, 'wrong_model_task', 'model'],
    [new TokenIdsNotSupportedError('m', 'input'), 400, 'token_ids_not_supported', 'input'],
    [new InvalidTokenIdError('input[2]', 99999, 100), 400, 'invalid_token_id', 'input[2]'],
  ] as const)('%s -> %i %s', (err, status, code, param) => {
    const api = coreErrorToApiError(err, 'req-9');
    expect(api.status).toBe(status);
    expect(api.code).toBe(code);
    expect(api.param).toBe(param);
    expect(api.message).not.toMatch(/secret/);
    if (code === 'inference_failed') expect(api.message).toMatch(/request id req-9/);
    if (status === 429 || status === 503) expect(api.headers['Retry-After']).toBe('1');
  });
});
