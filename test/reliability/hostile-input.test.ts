/**
 * Hostile input against the real binary (`corom serve`, default limits): a fixed table of nasty
 * bodies and HTTP, fast-check fuzzing of every JSON route, and clients that vanish mid-request.
 * Every case must end in a 2xx, a 4xx in OpenAI's error shape, or a closed connection -- never a
 * 5xx, a crash or a stuck queue -- and the server must answer a normal request right after.
 * Slow clients (slowloris) are in slow-clients.test.ts.
 */
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeFixtureModel, startServeChild, type ServeChild } from '../../scripts/reliability/serve-child.js';
import { expectHandled } from './expectations.js';
import { openSocket, postBytes, rawRequest } from './raw-http.js';
import { expectServes, expectUnharmed } from './service-probe.js';

afterAll(removeFixtureModel);

let server: ServeChild;
beforeAll(async () => {
  server = await startServeChild();
});
afterAll(async () => {
  await server?.stop();
});

const ROUTES = ['/v1/embeddings', '/v1/rerank', '/v1/sentence-embedding', '/tokenize'] as const;
type Route = (typeof ROUTES)[number];

/** A body for `route` whose main text field holds `value` (raw JSON text). */
function withField(route: Route, value: string): string {
  switch (route) {
    case '/v1/embeddings':
      return `{"input":${value}}`;
    case '/v1/rerank':
      return `{"query":"q","documents":${value}}`;
    case '/v1/sentence-embedding':
      return `{"input":{"source_sentence":${value}}}`;
    case '/tokenize':
      return `{"inputs":${value}}`;
  }
}

const deepArray = (n: number): string => '['.repeat(n) + ']'.repeat(n);
const deepObject = (n: number): string => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
const jsonList = (n: number, item: string): string => `[${new Array(n).fill(item).join(',')}]`;
const bytes = (...parts: Array<string | number[]>): Buffer => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));

interface Case {
  name: string;
  /** Raw bytes of the whole HTTP request. */
  request: Buffer;
  /** Statuses this case may get (default: any that expectHandled accepts). */
  statuses?: number[];
}

const post = (path: string, body: Buffer | string, headers?: string[]): Buffer => postBytes(path, body, headers);

const CASES: Case[] = [
  // Deep nesting: 100k levels, as the body, in the text field, as nested objects.
  ...ROUTES.flatMap((route): Case[] => [
    { name: `${route}: body is 100k nested arrays`, request: post(route, deepArray(100_000)), statuses: [400] },
    { name: `${route}: body is 100k nested objects`, request: post(route, deepObject(100_000)), statuses: [400] },
    { name: `${route}: text field is 100k nested arrays`, request: post(route, withField(route, deepArray(100_000))), statuses: [400] },
    { name: `${route}: text field is 100k nested objects`, request: post(route, withField(route, deepObject(100_000))), statuses: [400] },
  ]),
  // Wrong types at the root and in the text field.
  ...ROUTES.flatMap((route): Case[] =>
    ['null', 'true', '123', '"text"', '[]', '{}', '-0', '""'].flatMap((value) => [
      { name: `${route}: body ${value}`, request: post(route, value), statuses: [400] },
      {
        name: `${route}: text field ${value}`,
        request: post(route, withField(route, value)),
        // A single string is a valid input where the field takes one text.
        statuses: value === '"text"' && (route === '/v1/embeddings' || route === '/tokenize') ? [200] : [400],
      },
    ]),
  ),
  { name: 'embeddings: model is an object', request: post('/v1/embeddings', '{"input":"a","model":{"id":"x"}}'), statuses: [400] },
  { name: 'embeddings: encoding_format is an array', request: post('/v1/embeddings', '{"input":"a","encoding_format":["base64"]}'), statuses: [400] },
  { name: 'rerank: documents of objects without text', request: post('/v1/rerank', '{"query":"q","documents":[{"text":1},{"x":"a"}]}'), statuses: [400] },
  { name: 'rerank: query is a number', request: post('/v1/rerank', '{"query":5,"documents":["a"]}'), statuses: [400] },
  // Huge and odd numbers.
  { name: 'token id 1e400 (Infinity after parsing)', request: post('/v1/embeddings', '{"input":[1e400]}'), statuses: [400] },
  { name: 'token id -1e400', request: post('/v1/embeddings', '{"input":[-1e400]}'), statuses: [400] },
  { name: 'token id 1e308', request: post('/v1/embeddings', '{"input":[101,1e308]}'), statuses: [400] },
  { name: 'token id 2^53+1', request: post('/v1/embeddings', '{"input":[9007199254740993]}'), statuses: [400] },
  { name: 'token id 1e-400 (0 after parsing)', request: post('/v1/embeddings', '{"input":[101,1e-400,102]}'), statuses: [200] },
  { name: 'nested token id 1e400', request: post('/v1/embeddings', '{"input":[[101],[1e400]]}'), statuses: [400] },
  { name: 'dimensions 1e400', request: post('/v1/embeddings', '{"input":"a","dimensions":1e400}'), statuses: [400] },
  { name: 'dimensions -0', request: post('/v1/embeddings', '{"input":"a","dimensions":-0}'), statuses: [400] },
  { name: 'top_n 1e400', request: post('/v1/rerank', '{"query":"q","documents":["a"],"top_n":1e400}'), statuses: [400] },
  { name: 'top_n 1e300 (larger than the documents)', request: post('/v1/rerank', '{"query":"q","documents":["a"],"top_n":1e300}'), statuses: [200, 400] },
  // NaN / Infinity / other non-JSON number literals.
  ...['NaN', 'Infinity', '-Infinity', '0x10', '+1', '01', '1.', '.5', '1e'].map(
    (literal): Case => ({ name: `number literal ${literal}`, request: post('/v1/embeddings', `{"input":[${literal}]}`), statuses: [400] }),
  ),
  { name: 'dimensions NaN', request: post('/v1/embeddings', '{"input":"a","dimensions":NaN}'), statuses: [400] },
  // Lone surrogates (as JSON escapes) everywhere a string goes.
  { name: 'input lone high surrogate', request: post('/v1/embeddings', '{"input":"a\\ud800"}'), statuses: [200] },
  { name: 'input only a lone surrogate (no tokens after normalization)', request: post('/v1/embeddings', '{"input":"\\ud800"}'), statuses: [400] },
  { name: 'input lone low surrogates', request: post('/v1/embeddings', '{"input":["b\\udfff","\\udc00c\\ud800","a\\ud800b"]}'), statuses: [200] },
  { name: 'rerank lone surrogates, echoed back', request: post('/v1/rerank', '{"query":"q\\ud800","documents":["\\udfffd"],"return_documents":true}'), statuses: [200] },
  { name: 'pipeline lone surrogates', request: post('/v1/sentence-embedding', '{"input":{"source_sentence":["s\\ud83d"],"sentences_to_compare":["\\ude00t"]}}'), statuses: [200] },
  { name: 'tokenize lone surrogate', request: post('/tokenize', '{"inputs":"\\udbffu"}'), statuses: [200] },
  { name: 'model id with a lone surrogate', request: post('/v1/embeddings', '{"input":"a","model":"\\ud800"}'), statuses: [404] },
  { name: 'NUL escape in text', request: post('/v1/embeddings', '{"input":"a\\u0000b"}'), statuses: [200] },
  // Invalid UTF-8 bytes.
  { name: 'invalid UTF-8 (0xff 0xfe) inside a string', request: post('/v1/embeddings', bytes('{"input":"a', [0xff, 0xfe], '"}')), statuses: [200] },
  { name: 'overlong UTF-8 (0xc0 0xaf) inside a string', request: post('/v1/embeddings', bytes('{"input":"a', [0xc0, 0xaf], '"}')), statuses: [200] },
  { name: 'UTF-8-encoded surrogate (CESU) inside a string', request: post('/v1/embeddings', bytes('{"input":"a', [0xed, 0xa0, 0x80], '"}')), statuses: [200] },
  { name: 'truncated multi-byte sequence at the end of a string', request: post('/tokenize', bytes('{"inputs":"a', [0xe4, 0xbd], '"}')), statuses: [200] },
  // Only U+FFFD after decoding: nothing to tokenize, a 400 like "" (issue 14, item 10).
  { name: 'only invalid UTF-8 inside a string', request: post('/v1/embeddings', bytes('{"input":"', [0xff, 0xfe], '"}')), statuses: [400] },
  { name: 'invalid UTF-8 outside strings', request: post('/v1/embeddings', bytes('{"input"', [0xff], ':"a"}')), statuses: [400] },
  { name: 'raw NUL byte inside a string', request: post('/v1/embeddings', bytes('{"input":"a', [0x00], 'b"}')), statuses: [400] },
  { name: 'UTF-8 BOM before the JSON', request: post('/v1/embeddings', bytes([0xef, 0xbb, 0xbf], '{"input":"a"}')), statuses: [200, 400] },
  { name: 'UTF-16 body', request: post('/v1/embeddings', Buffer.from('{"input":"a"}', 'utf16le')), statuses: [400] },
  // Keys that matter to JavaScript objects.
  { name: '__proto__ holding the input', request: post('/v1/embeddings', '{"__proto__":{"input":"polluted"}}'), statuses: [400] },
  { name: 'constructor.prototype', request: post('/v1/embeddings', '{"input":"a","constructor":{"prototype":{"isAdmin":true}}}'), statuses: [200] },
  { name: 'duplicate keys (last wins)', request: post('/v1/embeddings', '{"input":"a","input":5}'), statuses: [400] },
  // 100k-element arrays.
  { name: '100k texts', request: post('/v1/embeddings', jsonList(100_000, '"a"')), statuses: [400] },
  { name: '100k texts in input', request: post('/v1/embeddings', withField('/v1/embeddings', jsonList(100_000, '"a"'))), statuses: [400] },
  { name: '100k token ids in one sequence (truncated, valid)', request: post('/v1/embeddings', withField('/v1/embeddings', jsonList(100_000, '101'))), statuses: [200] },
  { name: '100k token-id sequences', request: post('/v1/embeddings', withField('/v1/embeddings', jsonList(100_000, '[101]'))), statuses: [400] },
  { name: '100k nulls', request: post('/v1/embeddings', withField('/v1/embeddings', jsonList(100_000, 'null'))), statuses: [400] },
  { name: '100k rerank documents', request: post('/v1/rerank', withField('/v1/rerank', jsonList(100_000, '"d"'))), statuses: [400] },
  { name: '100k source sentences', request: post('/v1/sentence-embedding', withField('/v1/sentence-embedding', jsonList(100_000, '"s"'))), statuses: [400] },
  { name: '100k tokenize inputs', request: post('/tokenize', withField('/tokenize', jsonList(100_000, '"t"'))), statuses: [400] },
  // Issue 14: refused by count before the body is parsed (figures: scripts/reliability/attacks.ts).
  { name: '1,390,000 x [] (4.17 MB)', request: post('/v1/embeddings', withField('/v1/embeddings', jsonList(1_390_000, '[]'))), statuses: [400] },
  { name: '800,000 x null', request: post('/v1/embeddings', withField('/v1/embeddings', jsonList(800_000, 'null'))), statuses: [400] },
  { name: '1,390,000 x [] rerank documents', request: post('/v1/rerank', withField('/v1/rerank', jsonList(1_390_000, '[]'))), statuses: [400] },
  { name: '1,000,000 token ids then 1.5 (names input[1000000])', request: post('/v1/embeddings', `{"input":[${'1,'.repeat(1_000_000)}1.5]}`), statuses: [400] },
  { name: 'Content-Encoding: gzip on a plain body', request: post('/v1/embeddings', '{"input":"a"}', ['Content-Encoding: gzip']), statuses: [415] },
  { name: 'Content-Encoding: gzip on a gzip body', request: post('/v1/embeddings', gzipSync('{"input":"a"}'), ['Content-Encoding: gzip']), statuses: [415] },
  { name: 'GET /v1/models/ (trailing slash)', request: Buffer.from('GET /v1/models/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'), statuses: [404] },
  { name: '100k keys in the body object', request: post('/v1/embeddings', `{${Array.from({ length: 100_000 }, (_, i) => `"k${i}":0`).join(',')},"input":"a"}`), statuses: [200] },
  { name: 'one 3 MB text (under the body limit, truncated to 128 tokens)', request: post('/v1/embeddings', `{"input":"${'海'.repeat(1_000_000)}"}`), statuses: [200] },
  { name: 'a 3 MB model id (echoed in the 404)', request: post('/v1/embeddings', `{"input":"a","model":"${'m'.repeat(3_000_000)}"}`), statuses: [404] },
  // 10 MB bodies (the default limit is 4 MiB).
  { name: '10 MB body with Content-Length', request: post('/v1/embeddings', `{"input":"${'a'.repeat(10 * 1024 * 1024)}"}`), statuses: [413] },
  {
    name: '10 MB chunked body',
    request: Buffer.concat([
      Buffer.from('POST /v1/embeddings HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n'),
      ...Array.from({ length: 10 }, () => Buffer.from(`100000\r\n${'a'.repeat(0x100000)}\r\n`)),
      Buffer.from('0\r\n\r\n'),
    ]),
    statuses: [413],
  },
  // Header floods and malformed HTTP (Node refuses these itself: 4xx, no body, connection closed).
  {
    name: '5000 headers',
    request: Buffer.from(`GET /health HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 5000 }, (_, i) => `X-Flood-${i}: v\r\n`).join('')}\r\n`),
    statuses: [431],
  },
  { name: 'one 100 KB header', request: Buffer.from(`GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(100_000)}\r\n\r\n`), statuses: [431] },
  { name: '100 KB URL', request: Buffer.from(`GET /${'a'.repeat(100_000)} HTTP/1.1\r\nHost: x\r\n\r\n`), statuses: [431] },
  { name: '1000 cookies', request: Buffer.from(`GET /health HTTP/1.1\r\nHost: x\r\n${'Cookie: a=b\r\n'.repeat(1000)}\r\n`), statuses: [200, 431] },
  { name: 'garbage instead of HTTP', request: Buffer.from('\x00\x01\x02GARBAGE\r\n\r\n', 'latin1'), statuses: [400] },
  { name: 'invalid Content-Length', request: Buffer.from('POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}'), statuses: [400] },
  { name: 'negative Content-Length', request: Buffer.from('POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n{}'), statuses: [400] },
  {
    name: 'Content-Length and Transfer-Encoding together (smuggling)',
    request: Buffer.from('POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /metrics HTTP/1.1\r\n\r\n'),
    statuses: [400],
  },
  { name: 'header with a NUL byte', request: Buffer.from('GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n', 'latin1'), statuses: [400] },
  { name: 'HTTP/0.9-style request line', request: Buffer.from('GET /health\r\n\r\n'), statuses: [400] },
];

describe('hostile input: fixed table', () => {
  it.each(CASES)('$name', async (c) => {
    const answer = await rawRequest(server.url, c.request);
    expectHandled(answer, c.name);
    if (c.statuses && answer.status !== undefined) expect(c.statuses, `${c.name}: got ${answer.status} ${answer.body.slice(0, 200)}`).toContain(answer.status);
    if (answer.status === undefined) expect(answer.closed).toBe(true);
    await expectServes(server.url, c.name);
  });

  it('leaves the server unharmed: alive, no 5xx, no internal error logged, queue drained', async () => {
    await expectUnharmed(server);
  });
});

/** Code units 0..0xFFFF, lone surrogates included (fast-check's 'binary' unit only makes well-formed strings). */
const anyCodeUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));
const anyString = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: anyCodeUnit, maxLength: 40 }), fc.constantFrom('', ' ', '\u0000', '\ud800', '[CLS]', '__proto__'));
const anyJson: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    anyString,
    fc.double(),
    fc.integer(),
    fc.constantFrom(0, -1, 101, 21127, 21128, 2 ** 31, 2 ** 53, 1e300, null, true, false),
    fc.array(tie('value'), { maxLength: 6 }),
    fc.dictionary(anyString, tie('value'), { maxKeys: 5 }),
  ),
})).value;

/** Bodies shaped like each route's request, with any values in the fields. */
const SHAPED: Record<Route, fc.Arbitrary<unknown>> = {
  '/v1/embeddings': fc.record(
    {
      input: fc.oneof(anyJson, fc.array(anyString, { maxLength: 8 }), fc.array(fc.integer({ min: -5, max: 30_000 }), { maxLength: 8 })),
      model: anyJson,
      encoding_format: fc.oneof(fc.constantFrom('float', 'base64'), anyJson),
      dimensions: fc.oneof(fc.integer({ min: -2, max: 40 }), anyJson),
      normalize: anyJson,
      user: anyJson,
    },
    { requiredKeys: [] },
  ),
  '/v1/rerank': fc.record(
    {
      query: fc.oneof(anyString, anyJson),
      documents: fc.oneof(fc.array(fc.oneof(anyString, fc.record({ text: anyString })), { maxLength: 6 }), anyJson),
      top_n: fc.oneof(fc.integer({ min: -2, max: 10 }), anyJson),
      return_documents: anyJson,
      model: anyJson,
    },
    { requiredKeys: [] },
  ),
  '/v1/sentence-embedding': fc.record(
    {
      input: fc.oneof(
        fc.record({ source_sentence: fc.oneof(fc.array(anyString, { maxLength: 4 }), anyJson), sentences_to_compare: fc.oneof(fc.array(anyString, { maxLength: 4 }), anyJson) }, { requiredKeys: [] }),
        anyJson,
      ),
      model: anyJson,
    },
    { requiredKeys: [] },
  ),
  '/tokenize': fc.record({ inputs: fc.oneof(anyString, fc.array(anyString, { maxLength: 6 }), anyJson), model: anyJson }, { requiredKeys: [] }),
};

const RUNS = Number(process.env.COROM_RELIABILITY_FUZZ_RUNS ?? 40);

describe('hostile input: fuzzed JSON bodies (fast-check)', () => {
  it.each(ROUTES)('%s: any shaped body, any JSON value, any bytes -> 2xx or OpenAI-shaped 4xx, then still serving', async (route) => {
    const bodies = fc.oneof(
      SHAPED[route].map((b) => Buffer.from(JSON.stringify(b), 'utf8')),
      anyJson.map((b) => Buffer.from(JSON.stringify(b) ?? 'null', 'utf8')),
      fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
    );
    await fc.assert(
      fc.asyncProperty(bodies, async (body) => {
        const answer = await rawRequest(server.url, postBytes(route, body));
        expectHandled(answer, `${route} ${body.toString('utf8').slice(0, 120)}`);
        expect(answer.status, 'a JSON route always answers').toBeDefined();
      }),
      { numRuns: RUNS, seed: Number(process.env.COROM_FUZZ_SEED ?? 20261126) },
    );
    await expectServes(server.url, `fuzzing ${route}`);
  });

  it('leaves the server unharmed', async () => {
    await expectUnharmed(server);
  });
});

describe('clients that vanish mid-request', () => {
  const longTexts = Array.from({ length: 256 }, (_, i) => `${'吃完海鲜可以喝牛奶吗'.repeat(14)}${i}`);

  it('half a body, then the socket is destroyed (Content-Length and chunked, FIN and RST)', async () => {
    const body = JSON.stringify({ input: longTexts });
    const variants = [
      (s: import('node:net').Socket) => s.end(postBytes('/v1/embeddings', body).subarray(0, 200 + body.length / 2)),
      (s: import('node:net').Socket) => {
        s.write('POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n');
        s.write(`400\r\n${body.slice(0, 0x400)}\r\n`);
      },
      (s: import('node:net').Socket) => s.write(postBytes('/v1/rerank', JSON.stringify({ query: 'q', documents: longTexts })).subarray(0, 5000)),
    ];
    for (let round = 0; round < 5; round++) {
      await Promise.all(
        variants.map(async (send, i) => {
          const socket = await openSocket(server.url);
          socket.on('error', () => {});
          send(socket);
          await new Promise((r) => setTimeout(r, 20));
          // Alternate a clean close (FIN) and a reset (RST).
          if ((round + i) % 2) socket.resetAndDestroy();
          else socket.destroy();
        }),
      );
      await expectServes(server.url, `abort round ${round}`);
    }
    await expectUnharmed(server);
  });

  it('the whole request sent, the socket destroyed while its batch runs', async () => {
    const request = postBytes('/v1/embeddings', JSON.stringify({ input: longTexts }));
    await Promise.all(
      Array.from({ length: 12 }, async (_, i) => {
        const socket = await openSocket(server.url);
        socket.on('error', () => {});
        socket.write(request);
        await new Promise((r) => setTimeout(r, 10 + 15 * i));
        socket.destroy();
      }),
    );
    await expectServes(server.url, 'disconnects during inference');
    // Abandoned requests still run and are let go: the queue drains, nothing stays admitted.
    await expectUnharmed(server);
  });
});
