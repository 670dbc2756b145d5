import { describe, expect, it } from 'vitest';
import { apiRequestInit, callApi, describeHttpError, retryAfterSeconds, type FetchLike } from '../../../src/playground/client/api.js';
import { answeringBackend, MODEL_LIST_MAX_ATTEMPTS, modelListRetryDelayMs, modelOptionLabel, parseModelList } from '../../../src/playground/client/models.js';

/** A server as a function: records each request and answers with a real Response. */
function server(answer: (path: string, init: RequestInit) => Response): { fetch: FetchLike; seen: Array<{ path: string; init: RequestInit }> } {
  const seen: Array<{ path: string; init: RequestInit }> = [];
  return {
    seen,
    fetch: async (path, init) => {
      seen.push({ path, init });
      return answer(path, init);
    },
  };
}

const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

describe('apiRequestInit', () => {
  it('GETs without a body or content type, and sends no Authorization without a key', () => {
    expect(apiRequestInit('')).toEqual({ method: 'GET', headers: { Accept: 'application/json' } });
  });
  it('POSTs JSON with the key as a Bearer token', () => {
    expect(apiRequestInit('k1', { a: [1] })).toEqual({
      method: 'POST',
      headers: { Accept: 'application/json', Authorization: 'Bearer k1', 'Content-Type': 'application/json' },
      body: '{"a":[1]}',
    });
  });
});

describe('callApi', () => {
  it('returns the payload and headers of a 2xx answer', async () => {
    const s = server(() => json({ data: [] }, 200, { 'x-request-id': 'r1' }));
    const result = await callApi(s.fetch, '/v1/models', 'key');
    expect(result.ok && result.payload).toEqual({ data: [] });
    expect(result.ok && result.headers.get('x-request-id')).toBe('r1');
    expect(s.seen[0].path).toBe('/v1/models');
  });

  it("turns the service's error envelope into one line with type and code", async () => {
    const s = server(() => json({ error: { message: 'Invalid API key', type: 'authentication_error', code: 'invalid_api_key' } }, 401));
    expect(await callApi(s.fetch, '/v1/models', 'bad')).toEqual({
      ok: false,
      status: 401,
      message: 'HTTP 401（authentication_error / invalid_api_key）：Invalid API key',
    });
  });

  it('keeps a positive Retry-After of a 503', async () => {
    const s = server(() => json({ error: { message: 'loading', type: 'unavailable' } }, 503, { 'retry-after': '3' }));
    expect(await callApi(s.fetch, '/v1/models', '')).toMatchObject({ ok: false, status: 503, retryAfterSeconds: 3 });
  });

  it('says when the answer is not JSON, and when there is no answer at all', async () => {
    const html = server(() => new Response('<html>bad gateway</html>', { status: 502 }));
    expect(await callApi(html.fetch, '/v1/models', '')).toEqual({ ok: false, status: 502, message: 'HTTP 502：服务返回的不是 JSON（/v1/models）' });
    const down: FetchLike = async () => {
      throw new TypeError('Failed to fetch');
    };
    expect(await callApi(down, '/v1/sentence-embedding', '', {})).toEqual({
      ok: false,
      status: 0,
      message: '无法连接服务（/v1/sentence-embedding）：Failed to fetch',
    });
  });
});

describe('describeHttpError / retryAfterSeconds', () => {
  it('falls back to the JSON of a body without an error message', () => {
    expect(describeHttpError(500, { oops: 1 })).toBe('HTTP 500：{"oops":1}');
    expect(describeHttpError(400, { error: { message: 'too long', type: '', code: 7 } })).toBe('HTTP 400：too long');
  });
  it('reads only positive seconds', () => {
    expect(retryAfterSeconds('2')).toBe(2);
    expect(retryAfterSeconds('0')).toBeUndefined();
    expect(retryAfterSeconds(null)).toBeUndefined();
    expect(retryAfterSeconds('Wed, 21 Oct 2015 07:28:00 GMT')).toBeUndefined();
  });
});

describe('model list', () => {
  const card = { id: 'tiny-bert', dimensions: 32, max_length: 512, backend: 'onnxruntime-node', dtype: 'fp32' };

  it('keeps the entries with an id and nothing from a malformed answer', () => {
    expect(parseModelList({ data: [card, null, { id: 3 }, 'x'] })).toEqual([card]);
    expect(parseModelList({ data: 'nope' })).toEqual([]);
    expect(parseModelList(null)).toEqual([]);
  });

  it('labels an option with dimensions, dtype and backend', () => {
    expect(modelOptionLabel(card)).toBe('tiny-bert（32 维 · fp32 · onnxruntime-node）');
  });

  it('retries only a 503, after Retry-After capped at 10 s (1 s without), a bounded number of times', () => {
    const loading = { ok: false as const, status: 503, message: 'm' };
    expect(modelListRetryDelayMs(loading, 1)).toBe(1000);
    expect(modelListRetryDelayMs({ ...loading, retryAfterSeconds: 4 }, 2)).toBe(4000);
    expect(modelListRetryDelayMs({ ...loading, retryAfterSeconds: 120 }, 2)).toBe(10_000);
    expect(modelListRetryDelayMs(loading, MODEL_LIST_MAX_ATTEMPTS)).toBe(1000);
    expect(modelListRetryDelayMs(loading, MODEL_LIST_MAX_ATTEMPTS + 1)).toBeUndefined();
    expect(modelListRetryDelayMs({ ...loading, status: 500 }, 1)).toBeUndefined();
    expect(modelListRetryDelayMs({ ...loading, status: 0 }, 1)).toBeUndefined();
  });

  it('names the answering backend from the header first, then the model list', () => {
    expect(answeringBackend('origin', [card], 'tiny-bert')).toBe('origin');
    expect(answeringBackend(null, [card], 'tiny-bert')).toBe('onnxruntime-node');
    expect(answeringBackend(null, [], 'tiny-bert')).toBe('未知（/v1/models 不可用）');
  });
});
