/**
 * Issue 14, items 1, 6, 7, 8 and 10, in-process through app.request() with a fake served model
 * (no sockets): over-long lists refused before JSON.parse, one linear check before zod, non-UTF-8
 * or compressed bodies 415, a flat token-id list as one input naming its bad element, trailing
 * slashes 404, texts without tokens 400 on every text route. The attack figures (time, RSS,
 * /health meanwhile) against the real binary: scripts/reliability/attacks.ts.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createApp } from '../../src/http/app.js';
import { findOverlongList } from '../../src/http/json-scan.js';
import { buildSchemas } from '../../src/http/schemas.js';
import { fakeTokenModel } from './fake-models.js';

type ErrorJson = { error: { message: string; type: string; param: string | null; code: string | null } };

const app = createApp({ models: [fakeTokenModel()] });

async function post(path: string, body: string, headers: Record<string, string> = {}) {
  const res = await app.request(path, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body });
  const text = await res.text();
  return { status: res.status, text, json: JSON.parse(text) as ErrorJson };
}

const repeat = (element: string, times: number): string => `[${new Array(times).fill(element).join(',')}]`;

afterEach(() => {
  vi.restoreAllMocks();
});

describe('item 1: validation cost', () => {
  it.each([
    ['/v1/embeddings', 'input', (list: string) => `{"input":${list}}`],
    ['/v1/rerank', 'documents', (list: string) => `{"query":"q","documents":${list}}`],
    ['/v1/sentence-embedding', 'input.source_sentence', (list: string) => `{"input":{"source_sentence":${list}}}`],
    ['/v1/sentence-embedding', 'input.sentences_to_compare', (list: string) => `{"input":{"source_sentence":["a"],"sentences_to_compare":${list}}}`],
    ['/tokenize', 'inputs', (list: string) => `{"inputs":${list}}`],
  ])('%s: 1,390,000 x [] in %s is refused by count before the body is parsed', async (path, param, wrap) => {
    const body = wrap(repeat('[]', 1_390_000));
    const parse = vi.spyOn(JSON, 'parse');
    const answer = await post(path, body);
    const parsedBody = parse.mock.calls.some(([text]) => typeof text === 'string' && text.length >= body.length);
    parse.mockRestore();
    expect(answer.status).toBe(400);
    expect(answer.json.error.param).toBe(param);
    // Refused at element 2049, a few KB in: the full count would cost reading the whole body.
    expect(answer.json.error.message).toMatch(new RegExp(`^${param.replace('.', '\\.')} has more than 2048 items; at most 2048 are allowed per request`));
    expect(parsedBody, 'the 4 MB body reached JSON.parse').toBe(false);
  });

  it.each([
    ['800,000 x null', repeat('null', 800_000)],
    ['950,000 x [1]', repeat('[1]', 950_000)],
    ['a body that is a list of 3,000 objects', ''],
  ])('%s: refused by count, before parsing', async (name, list) => {
    const body = list ? `{"input":${list}}` : repeat('{}', 3000);
    const answer = await post('/v1/embeddings', body);
    expect(answer.status).toBe(400);
    expect(answer.json.error.message).toMatch(list ? /^input has more than 2048 items; at most 2048/ : /The request body must be a JSON object/);
  });

  it('within the count, the body gets one linear check before zod: one issue naming the element, no per-element issues', () => {
    const { EmbeddingRequest, SentenceEmbeddingRequest, TokenizeRequest } = buildSchemas(2048);
    const cases: Array<[{ safeParse(v: unknown): { success: boolean; error?: { issues: Array<{ message: string; path: PropertyKey[] }> } } }, unknown, RegExp]> = [
      [EmbeddingRequest, { input: new Array(2048).fill([]) }, /^input\[0\] must not be an empty token-id array/],
      [EmbeddingRequest, { input: new Array(2048).fill(null) }, /^input\[0\] must be a string, a token id or a token-id array, got null/],
      [EmbeddingRequest, { input: new Array(1_000_000).fill(1.5) }, /^input\[0\] must be a token id \(a non-negative integer\), got 1\.5/],
      [SentenceEmbeddingRequest, { input: { source_sentence: new Array(2048).fill(7) } }, /^input\.source_sentence\[0\] must be a string, got number/],
      [TokenizeRequest, { inputs: new Array(2048).fill([]) }, /^inputs\[0\] must be a string, got array/],
    ];
    for (const [schema, body, message] of cases) {
      const result = schema.safeParse(body);
      expect(result.success).toBe(false);
      expect(result.error!.issues).toHaveLength(1);
      expect(result.error!.issues[0].message).toMatch(message);
      // No union of per-element failures behind it (that was millions of issue objects).
      expect(JSON.stringify(result.error!.issues).length).toBeLessThan(2000);
    }
  });

  it('findOverlongList: exact path and count; number lists, short lists and text it cannot follow are left alone', () => {
    expect(findOverlongList(`{"input":{"a":[1],"b\\u0041":${repeat('"x\\\\\\"y"', 3001)}}}`, 2048)).toEqual({ path: 'input.bA', items: 3001 });
    expect(findOverlongList(`{"documents":${repeat('{"text":"a,]"}', 2049)}}`, 2048)).toEqual({ path: 'documents', items: 2049 });
    expect(findOverlongList(`{"input":[${repeat('1', 5000)},${repeat('[]', 2049)}]}`, 2048)).toEqual({ path: 'input[1]', items: 2049 });
    expect(findOverlongList(`{"input":${repeat('1', 100_000)}}`, 2048)).toBeUndefined();
    // Numbers first, then something else: past maxItems it is named at once, before it the list is counted.
    expect(findOverlongList(`{"input":[${repeat('1', 3000).slice(1, -1)},[]]}`, 2048)).toEqual({ path: 'input', mixedAt: 3000, kind: 'array' });
    expect(findOverlongList(`{"input":[${repeat('1', 3000).slice(1, -1)},null]}`, 2048)).toEqual({ path: 'input', mixedAt: 3000, kind: 'null' });
    expect(findOverlongList(`{"input":[1,${repeat('[]', 3000).slice(1, -1)}]}`, 2048)).toEqual({ path: 'input', items: 3001 });
    expect(findOverlongList(`{"input":[${repeat('1', 3000).slice(1, -1)},NaN]}`, 2048)).toBeUndefined();
    expect(findOverlongList(`{"input":${repeat('"a"', 2048)}}`, 2048)).toBeUndefined();
    expect(findOverlongList(`{"input":"${'[],'.repeat(5000)}"}`, 2048)).toBeUndefined();
    expect(findOverlongList(`{"input":${repeat('[]', 5000).slice(0, -1)}`, 2048)).toBeUndefined();
  });
});

describe('item 6: only identity-encoded UTF-8 bodies', () => {
  it.each([
    ['application/json; charset=latin1', undefined, /charset 'latin1' is not supported; send the JSON body as UTF-8/],
    ['application/json; charset=utf-16', undefined, /charset 'utf-16' is not supported/],
    ['application/json;charset="ISO-8859-1"', undefined, /charset 'ISO-8859-1' is not supported/],
    ['application/json', 'gzip', /Content-Encoding 'gzip' is not supported; send the JSON body uncompressed/],
    ['application/json', 'br', /Content-Encoding 'br' is not supported/],
    ['application/json', 'deflate', /Content-Encoding 'deflate'/],
    ['application/json', 'x-anything', /Content-Encoding 'x-anything'/],
  ])('%s, Content-Encoding %s -> 415', async (contentType, encoding, message) => {
    for (const path of ['/v1/embeddings', '/v1/rerank', '/tokenize']) {
      const answer = await post(path, '{"input":"é","inputs":"é","query":"é","documents":["é"]}', {
        'Content-Type': contentType,
        ...(encoding ? { 'Content-Encoding': encoding } : {}),
      });
      expect(answer.status, `${path}: ${answer.text}`).toBe(415);
      expect(answer.json.error.message).toMatch(message);
    }
  });

  it.each([
    ['application/json; charset=utf-8', undefined],
    ['application/json; charset=UTF8', undefined],
    ['application/json;charset="utf-8"', 'identity'],
  ])('%s, Content-Encoding %s -> 200', async (contentType, encoding) => {
    const answer = await post('/v1/embeddings', '{"input":"é"}', { 'Content-Type': contentType, ...(encoding ? { 'Content-Encoding': encoding } : {}) });
    expect(answer.status, answer.text).toBe(200);
  });
});

describe('item 7: a flat token-id list is one input', () => {
  it('a bad element at the end of 1,000,001 ids is named, not counted', async () => {
    const answer = await post('/v1/embeddings', `{"input":[${'1,'.repeat(1_000_000)}1.5]}`);
    expect(answer.status).toBe(400);
    expect(answer.json.error.param).toBe('input[1000000]');
    expect(answer.json.error.message).toMatch(/^input\[1000000\] must be a token id \(a non-negative integer\), got 1\.5/);
  });

  it('text mixed into a long id list is named too', async () => {
    const answer = await post('/v1/embeddings', `{"input":[${'1,'.repeat(5000)}"a"]}`);
    expect(answer.status).toBe(400);
    expect(answer.json.error.param).toBe('input[5000]');
    expect(answer.json.error.message).toMatch(/^input\[5000\] is a string but input\[0\] is a number; one (request|list) must not mix/);
  });

  it('1,390,000 x [] after one token id is refused by count before the body is parsed', async () => {
    const body = `{"input":[1,${'[],'.repeat(1_389_999)}[]]}`;
    const parse = vi.spyOn(JSON, 'parse');
    const answer = await post('/v1/embeddings', body);
    const parsedBody = parse.mock.calls.some(([text]) => typeof text === 'string' && text.length >= body.length);
    parse.mockRestore();
    expect(answer.status).toBe(400);
    expect(answer.json.error.message).toMatch(/^input has more than 2048 items; at most 2048/);
    expect(parsedBody).toBe(false);
  });

  it('a valid list of 5,000 ids is one input, truncated to the max length', async () => {
    const answer = await post('/v1/embeddings', `{"input":[${'7,'.repeat(4999)}7]}`);
    expect(answer.status, answer.text).toBe(200);
    const body = JSON.parse(answer.text) as { data: unknown[]; usage: { prompt_tokens: number } };
    expect(body.data).toHaveLength(1);
    expect(body.usage.prompt_tokens).toBe(128);
  });
});

describe('item 8: trailing slashes are unknown routes', () => {
  it.each(['/v1/models/', '/v1/embeddings/', '/health/'])('GET %s -> 404', async (path) => {
    const res = await app.request(path);
    expect(res.status).toBe(404);
    expect(((await res.json()) as ErrorJson).error.code).toBe('unknown_route');
  });

  it('the path itself keeps its 405 for a wrong method', async () => {
    const res = await app.request('/v1/embeddings');
    expect(res.status).toBe(405);
  });
});

describe('item 10: a text without tokens after normalization is a 400 like ""', () => {
  const blanks: Array<[string, string]> = [
    ['spaces', '   '],
    ['tabs and newlines', '\t\n\r '],
    ['zero-width characters', '\u200b\u200c\u200d\ufeff'],
    ['control characters', '\u0000\u0001\u007f'],
    ['combining marks only', '\u0301\u0308'],
    ['ideographic space', '\u3000'],
  ];
  const NO_TOKENS = /has no tokens after normalization/;

  it.each(blanks)('%s: /v1/embeddings, as the input and as input[1]', async (_name, blank) => {
    const single = await post('/v1/embeddings', JSON.stringify({ input: blank }));
    expect(single.status).toBe(400);
    expect(single.json.error.param).toBe('input');
    expect(single.json.error.message).toMatch(/^input has no tokens after normalization/);
    const listed = await post('/v1/embeddings', JSON.stringify({ input: ['a', blank] }));
    expect(listed.status).toBe(400);
    expect(listed.json.error.param).toBe('input[1]');
    expect(listed.json.error.message).toMatch(/^input\[1\] has no tokens after normalization/);
  });

  it.each(blanks)('%s: rerank query and documents, pipeline sentences, tokenize', async (_name, blank) => {
    const cases: Array<[string, unknown, string]> = [
      ['/v1/rerank', { query: blank, documents: ['a'] }, 'query'],
      ['/v1/rerank', { query: 'q', documents: ['a', blank] }, 'documents[1]'],
      ['/v1/rerank', { query: 'q', documents: [{ text: blank }] }, 'documents[0]'],
      ['/v1/sentence-embedding', { input: { source_sentence: [blank] } }, 'input.source_sentence[0]'],
      ['/v1/sentence-embedding', { input: { source_sentence: ['a'], sentences_to_compare: ['b', blank] } }, 'input.sentences_to_compare[1]'],
      ['/tokenize', { inputs: blank }, 'inputs'],
      ['/tokenize', { inputs: ['a', blank] }, 'inputs[1]'],
    ];
    for (const [path, body, param] of cases) {
      const answer = await post(path, JSON.stringify(body));
      expect(answer.status, `${path} ${answer.text}`).toBe(400);
      expect(answer.json.error.message, path).toMatch(NO_TOKENS);
      expect(answer.json.error.param?.startsWith(param.split('[')[0]), `${path}: ${answer.json.error.param}`).toBe(true);
    }
  });

  it('text around such characters is served', async () => {
    for (const text of [' a ', '\u200ba', 'é', '\u3000中']) {
      const answer = await post('/v1/embeddings', JSON.stringify({ input: [text] }));
      expect(answer.status, `${JSON.stringify(text)}: ${answer.text}`).toBe(200);
    }
  });
});
