/**
 * Security defaults of `corom serve` (the real binary): API keys never echoed or logged, limits
 * on by default, CORS denied unless configured, no internals in any response.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, removeFixtureModel, startServeChild, type ServeChild } from '../../scripts/reliability/serve-child.js';
import { expectHandled, expectNoLeak, expectOpenAiError } from './expectations.js';
import { postBytes, rawRequest } from './raw-http.js';

afterAll(removeFixtureModel);

interface Answer {
  status: number;
  headers: Headers;
  body: string;
}

async function call(url: string, path: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(`${url}${path.replace(/^\//, '')}`, init);
  const answer = { status: res.status, headers: res.headers, body: await res.text() };
  expectNoLeak(answer.body, `${init.method ?? 'GET'} ${path}`);
  return answer;
}

const json = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

describe('API keys', () => {
  const KEY = 'sk-corom-reliability-7d1f0c2a9b4e';
  const SECOND = 'second-key-Zq8vN3';
  const WRONG = 'sk-corom-reliability-7d1f0c2a9b4X';
  let server: ServeChild;
  const seen: string[] = [];
  beforeAll(async () => {
    server = await startServeChild({ env: cleanEnv({ COROM_API_KEYS: `${KEY},${SECOND}` }) });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('authorized and unauthorized requests: 200 with a configured key, OpenAI-shaped 401 otherwise', async () => {
    const embed = { input: '吃完海鲜可以喝牛奶吗?' };
    for (const key of [KEY, SECOND]) {
      const ok = await call(server.url, '/v1/embeddings', json(embed, { authorization: `Bearer ${key}` }));
      expect(ok.status).toBe(200);
      seen.push(ok.body, JSON.stringify([...ok.headers]));
    }
    const refused: Array<[string, Record<string, string>]> = [
      ['no header', {}],
      ['wrong key sharing a long prefix', { authorization: `Bearer ${WRONG}` }],
      ['key with a trailing character', { authorization: `Bearer ${KEY}x` }],
      ['key prefix', { authorization: `Bearer ${KEY.slice(0, -1)}` }],
      ['Basic scheme', { authorization: `Basic ${Buffer.from(`user:${KEY}`).toString('base64')}` }],
      ['key without a scheme', { authorization: KEY }],
      ['key in X-Api-Key', { 'x-api-key': KEY }],
      ['empty bearer', { authorization: 'Bearer ' }],
      ['10 KB bearer', { authorization: `Bearer ${'k'.repeat(10_000)}` }],
    ];
    for (const [name, headers] of refused) {
      const answer = await call(server.url, '/v1/embeddings', json(embed, headers));
      expect(answer.status, name).toBe(401);
      const error = expectOpenAiError(answer.status, answer.body, name);
      expect(error.error.type).toBe('authentication_error');
      expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer/);
      seen.push(answer.body, JSON.stringify([...answer.headers]));
    }
    // A key in the query string is not a key.
    const query = await call(server.url, `/v1/models?api_key=${KEY}`);
    expect(query.status).toBe(401);
    // Probes and docs stay open; everything else asks for the key.
    for (const path of ['/health', '/ready', '/openapi.json', '/docs', '/']) {
      const open = await call(server.url, path);
      expect(open.status, path).toBe(200);
      seen.push(open.body);
    }
    for (const path of ['/info', '/metrics', '/v1/models']) {
      expect((await call(server.url, path)).status, path).toBe(401);
      const authorized = await call(server.url, path, { headers: { authorization: `Bearer ${KEY}` } });
      expect(authorized.status, path).toBe(200);
      seen.push(authorized.body);
    }
  });

  it('no key, right or wrong, appears in any response or in the server log', async () => {
    expect(seen.length).toBeGreaterThan(10);
    const log = server.stderr();
    expect(log).toMatch(/ ready: .*auth on/);
    for (const secret of [KEY, SECOND, WRONG, KEY.slice(0, 12)]) {
      for (const text of seen) expect(text.includes(secret), `a response contains ${secret}`).toBe(false);
      expect(log.includes(secret), `the server log contains ${secret}`).toBe(false);
    }
  });
});

describe('defaults: limits on, CORS off', () => {
  let server: ServeChild;
  beforeAll(async () => {
    server = await startServeChild();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('/info reports the default limits: 2048 inputs, 4 MiB bodies', async () => {
    const info = JSON.parse((await call(server.url, '/info')).body) as { limits: { max_inputs: number; max_body_bytes: number }; auth: boolean };
    expect(info.limits).toMatchObject({ max_inputs: 2048, max_body_bytes: 4 * 1024 * 1024 });
    expect(info.auth).toBe(false);
  });

  it('2048 inputs are served, 2049 refused; the same for rerank documents', async () => {
    const texts = (n: number): string[] => Array.from({ length: n }, (_, i) => `第${i}句`);
    const ok = await call(server.url, '/v1/embeddings', json({ input: texts(2048), encoding_format: 'base64' }));
    expect(ok.status).toBe(200);
    expect((JSON.parse(ok.body) as { data: unknown[] }).data).toHaveLength(2048);
    const tooMany = await call(server.url, '/v1/embeddings', json({ input: texts(2049) }));
    expect(expectOpenAiError(tooMany.status, tooMany.body).error.message).toMatch(/has more than 2048 items; at most 2048/);
    const docs = await call(server.url, '/v1/rerank', json({ query: 'q', documents: texts(2049) }));
    expect(expectOpenAiError(docs.status, docs.body).error.param).toBe('documents');
  });

  it('bodies over 4 MiB get 413 in OpenAI shape (declared or streamed); just under the limit is read', async () => {
    const limit = 4 * 1024 * 1024;
    const padded = (bytes: number): string => {
      const head = '{"input":"a","user":"';
      return head + 'u'.repeat(bytes - head.length - 2) + '"}';
    };
    // Refused on the declared length, before the body is read: the headers alone get the 413.
    const declared = postBytes('/v1/embeddings', padded(limit + 1));
    const headersOnly = await rawRequest(server.url, declared.subarray(0, declared.indexOf('\r\n\r\n') + 4));
    expect(headersOnly.status).toBe(413);
    expect(expectOpenAiError(headersOnly.status!, headersOnly.body).error.code).toBe('request_too_large');
    // Sent in full, the 413 may be lost to the client when the server resets the connection it
    // stopped reading; either way nothing over the limit is processed.
    expectHandled(await rawRequest(server.url, declared), '4 MiB + 1 byte');
    const under = await rawRequest(server.url, postBytes('/v1/embeddings', padded(limit)));
    expect(under.status, under.body.slice(0, 200)).toBe(200);
    const streamed = await fetch(`${server.url}v1/embeddings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(padded(limit + 1000)));
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
  });

  it('CORS: no Access-Control-Allow-Origin for any origin, simple or preflight', async () => {
    for (const origin of ['https://evil.example', 'null', 'http://localhost:3000']) {
      const simple = await call(server.url, '/v1/embeddings', json({ input: 'a' }, { origin }));
      expect(simple.status).toBe(200);
      expect(simple.headers.get('access-control-allow-origin')).toBeNull();
      const preflight = await call(server.url, '/v1/embeddings', {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' },
      });
      expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
      expect(preflight.headers.get('access-control-allow-methods')).toBeNull();
    }
  });
});

describe('CORS when configured', () => {
  let server: ServeChild;
  beforeAll(async () => {
    server = await startServeChild({ args: ['--cors-origin', 'https://app.example'] });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('allows only the configured origin', async () => {
    const preflight = (origin: string) =>
      call(server.url, '/v1/embeddings', { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
    const allowed = await preflight('https://app.example');
    expect(allowed.status).toBeLessThan(300);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(allowed.headers.get('access-control-allow-methods')).toMatch(/POST/);
    const simple = await call(server.url, '/v1/embeddings', json({ input: 'a' }, { origin: 'https://app.example' }));
    expect(simple.headers.get('access-control-allow-origin')).toBe('https://app.example');

    for (const origin of ['https://evil.example', 'https://app.example.evil.example', 'http://app.example', 'null']) {
      const denied = await preflight(origin);
      expect(denied.headers.get('access-control-allow-origin'), origin).not.toBe(origin);
      expect(denied.headers.get('access-control-allow-origin'), origin).not.toBe('*');
      const other = await call(server.url, '/v1/embeddings', json({ input: 'a' }, { origin }));
      expect(other.headers.get('access-control-allow-origin'), origin).not.toBe(origin);
      expect(other.headers.get('access-control-allow-origin'), origin).not.toBe('*');
    }
  });
});
