/**
 * The whole service at the edge, in real workerd: test/fixtures/tiny-bert converted by
 * `convertCheckpoint` and put into local R2 under the keys `corom upload-r2` writes, served by the
 * same app as `corom serve` with the in-isolate WASM backend; two Workers AI models through a fake
 * AI binding (a service binding to test/worker/fake-ai-worker.js: a WorkerEntrypoint whose
 * `run(model, {text})` is called over real workerd RPC); the Cache API edge cache; API keys.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { convertCheckpoint } from '../../src/store/convert.js';
import { fakeAiVector, unit } from './fake-ai.js';
import { startFakeAi, startWorkerd, type WorkerdWorker } from './workerd-harness.js';
import { EXPECTED, FIXTURE_DIR, type ExpectedCase } from '../helpers/fixture.js';

const FIXTURE = FIXTURE_DIR;
const cases = EXPECTED;
const KEY = 'edge-test-key';
const AUTH = { authorization: `Bearer ${KEY}` };
const BGE = '@cf/baai/bge-small-en-v1.5';
const TINY_AI = '@cf/test/tiny-embed';
const FAKE_AI_NAME = `corom-fake-ai-${process.pid}`;

let converted: string;
let registry: string;
let worker: WorkerdWorker;
let fakeAi: WorkerdWorker;

beforeAll(async () => {
  converted = await mkdtemp(join(tmpdir(), 'corom-tiny-bert-'));
  registry = await mkdtemp(join(tmpdir(), 'corom-registry-'));
  await convertCheckpoint(FIXTURE, converted, { dtype: 'fp32' });
  const objects: Record<string, Uint8Array> = {};
  for (const file of ['corom.json', 'model.fp32.onnx', 'vocab.txt']) objects[`models/tiny-bert/${file}`] = await readFile(join(converted, file));
  fakeAi = await startFakeAi(FAKE_AI_NAME, registry);
  worker = await startWorkerd({
    objects,
    registry,
    // MODEL_PREFIX is left to its default, models/<MODEL_ID>/.
    vars: {
      MODEL_ID: 'tiny-bert',
      MODEL_PREFIX: '',
      MODEL_DTYPE: 'fp32',
      WORKERS_AI_MODELS: `${BGE}, ${TINY_AI}=4`,
      EMBED_CACHE_TTL: '300',
      API_KEYS: `other-key,${KEY}`,
      MAX_BODY_BYTES: '65536',
    },
    bindings: { AI: { type: 'service', service: FAKE_AI_NAME } },
    headers: AUTH,
  });
}, 90_000);

afterAll(async () => {
  await Promise.all([worker?.dispose(), fakeAi?.dispose()]);
  await Promise.all([converted, registry].filter(Boolean).map((dir) => rm(dir, { recursive: true, force: true })));
});

function dot(a: readonly number[], b: readonly number[]): number {
  return a.reduce((sum, v, i) => sum + v * b[i], 0);
}

function worstDifference(actual: readonly number[], expected: readonly number[]): number {
  expect(actual).toHaveLength(expected.length);
  return Math.max(...actual.map((v, i) => Math.abs(v - expected[i])));
}

function expectReference(embeddings: number[][], expected: ExpectedCase, scores?: number[]): void {
  expect(embeddings).toHaveLength(expected.text_embedding.length);
  embeddings.forEach((vector, i) => expect(worstDifference(vector, expected.text_embedding[i]), `${expected.name} text ${i}`).toBeLessThan(1e-4));
  const actualScores = scores ?? embeddings.slice(1).map((v) => dot(embeddings[0], v));
  expected.scores.forEach((score, i) => expect(Math.abs(actualScores[i] - score) / Math.abs(score), `${expected.name} score ${i}`).toBeLessThan(1e-3));
}

/** corom_answers_total for one model and backend in a /metrics scrape (0 when absent). */
function answers(scrape: string, model: string, backend: string): number {
  const line = scrape.split('\n').find((l) => l.startsWith(`corom_answers_total{model="${model}",backend="${backend}"} `));
  return line ? Number(line.split(' ').pop()) : 0;
}

const texts = (c: ExpectedCase) => [...c.source_sentence, ...(c.sentences_to_compare ?? [])];
const vectorsOf = (body: { data: { embedding: number[] }[] }) => body.data.map((d) => d.embedding);

describe('the service in workerd, in-isolate WASM backend', () => {
  it('is live before any model is loaded (edge details only on /info when API keys are set)', async () => {
    const health = await worker.get('/health', { authorization: '' });
    expect(health.status).toBe(200);
    expect(health.body).toEqual({ status: 'ok' });
    const info = await worker.get('/info');
    expect(info.body.edge).toMatchObject({ wasmMemoryBytes: null, model: { id: 'tiny-bert', loaded: false } });
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s: /v1/embeddings (normalize false) gives the reference vectors', async (_name, expected) => {
    const response = await worker.postJson('/v1/embeddings', { input: texts(expected), model: 'tiny-bert', normalize: false });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(response.headers.get('x-corom-backend')).toBe('wasm');
    expect(response.body.model).toBe('tiny-bert');
    const tokens = expected.input_ids.reduce((sum, ids) => sum + ids.length, 0);
    expect(response.body.usage).toEqual({ prompt_tokens: tokens, total_tokens: tokens });
    expectReference(vectorsOf(response.body), expected);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s: /v1/sentence-embedding gives the pipeline output', async (_name, expected) => {
    const input = { source_sentence: expected.source_sentence, ...(expected.sentences_to_compare ? { sentences_to_compare: expected.sentences_to_compare } : {}) };
    const response = await worker.postJson('/v1/sentence-embedding', { input });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(response.headers.get('x-corom-backend')).toBe('wasm');
    expectReference(response.body.text_embedding, expected, response.body.scores);
  });

  it('answers concurrent requests (batched together in the isolate) each with its own vectors', async () => {
    const responses = await Promise.all(
      cases.flatMap((expected) => [
        worker.postJson('/v1/embeddings', { input: texts(expected), normalize: false }),
        worker.postJson('/v1/embeddings', { input: [...texts(expected)].reverse(), normalize: false }),
      ]),
    );
    cases.forEach((expected, i) => {
      const [forward, reversed] = [responses[2 * i]!, responses[2 * i + 1]!];
      expect(forward.status).toBe(200);
      expect(reversed.status).toBe(200);
      expectReference(vectorsOf(forward.body), expected);
      expectReference(vectorsOf(reversed.body).reverse(), expected);
    });
  });

  it('takes the reference token ids, tokenizes like the reference, and reranks by cosine', async () => {
    const expected = cases.find((c) => (c.sentences_to_compare?.length ?? 0) >= 2)!;
    const ids = await worker.postJson('/v1/embeddings', { input: expected.input_ids, normalize: false, encoding_format: 'base64' });
    expect(ids.status).toBe(200);
    const decoded = ids.body.data.map((d: { embedding: string }) => {
      const bytes = Buffer.from(d.embedding, 'base64');
      return Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4));
    });
    expectReference(decoded, expected);

    const tokenized = await worker.postJson('/tokenize', { inputs: texts(expected), model: 'tiny-bert' });
    expect(tokenized.status).toBe(200);
    expect(tokenized.body.data.map((d: { ids: number[] }) => d.ids)).toEqual(expected.input_ids);

    const [query, ...documents] = texts(expected);
    const rerank = await worker.postJson('/v1/rerank', { query, documents, return_documents: true });
    expect(rerank.status).toBe(200);
    expect(rerank.headers.get('x-corom-backend')).toBe('wasm');
    const vectors = expected.text_embedding;
    const cosine = (a: number[], b: number[]) => dot(a, b) / Math.sqrt(dot(a, a) * dot(b, b));
    const scores = vectors.slice(1).map((v) => cosine(vectors[0], v));
    expect(rerank.body.results).toHaveLength(documents.length);
    for (const result of rerank.body.results) {
      expect(result.relevance_score).toBeCloseTo(scores[result.index], 4);
      expect(result.document.text).toBe(documents[result.index]);
    }
    const order = rerank.body.results.map((r: { relevance_score: number }) => r.relevance_score);
    expect(order).toEqual([...order].sort((a, b) => b - a));
  });

  it('serves the operations and documentation routes of the app, with the edge state', async () => {
    const models = await worker.get('/v1/models');
    expect(models.status).toBe(200);
    expect(models.body.data.map((m: { id: string; dimensions: number }) => [m.id, m.dimensions])).toEqual([
      ['tiny-bert', 32],
      [BGE, 384],
      [TINY_AI, 4],
    ]);
    expect(models.body.data[0]).toMatchObject({ backend: 'onnxruntime-web/wasm (workerd)', dtype: 'fp32', accepts_token_ids: true, max_length: 128 });
    expect(models.body.data[1]).toMatchObject({ backend: 'workers-ai', accepts_token_ids: false });

    const ready = await worker.get('/ready', { authorization: '' });
    expect(ready.status).toBe(200);
    // With keys configured, the open probe says only its status (issue 14, item 5).
    expect(ready.body).toEqual({ status: 'ready' });

    const info = await worker.get('/info');
    // Read from ORT's own linear memory: whole 64 KiB pages, at least the glue's initial 16 MiB.
    expect(info.body.edge.wasmMemoryBytes % 65536).toBe(0);
    expect(info.body.edge.wasmMemoryBytes).toBeGreaterThanOrEqual(16 * 1024 * 1024);
    expect(info.status).toBe(200);
    expect(info.body).toMatchObject({ name: 'corom-edge', ready: true, auth: true, limits: { max_inputs: 64, max_body_bytes: 65536 } });
    expect(info.body.edge).toMatchObject({
      memoryBudgetBytes: 128e6,
      model: { id: 'tiny-bert', r2Prefix: 'models/tiny-bert/', loaded: true, file: 'model.fp32.onnx', peakSource: 'estimate' },
      origins: [],
      workersAiModels: [BGE, TINY_AI],
      cache: { store: 'cache-api', ttlSeconds: 300 },
    });

    const metrics = await worker.get('/metrics');
    expect(metrics.status).toBe(200);
    expect(answers(metrics.body, 'tiny-bert', 'wasm')).toBeGreaterThan(0);
    const openapi = await worker.get('/openapi.json', { authorization: '' });
    expect(Object.keys(openapi.body.paths)).toEqual(expect.arrayContaining(['/v1/embeddings', '/v1/rerank', '/v1/sentence-embedding', '/tokenize']));
    const docs = await worker.get('/docs', { authorization: '' });
    expect(docs.status).toBe(200);
    expect(docs.body).toContain('<html');
    // The playground page the app mounts at /.
    const root = await worker.get('/', { authorization: '' });
    expect(root.status).toBe(200);
    expect(root.headers.get('content-type')).toMatch(/text\/html/);
  });

  it('asks for the API key on model routes before any backend runs, and answers errors in the OpenAI shape', async () => {
    const noKey = await worker.postJson('/v1/embeddings', { input: 'x' }, { authorization: '' });
    expect(noKey.status).toBe(401);
    expect(noKey.body.error.type).toBe('authentication_error');
    const wrongKey = await worker.get('/info', { authorization: 'Bearer nope' });
    expect(wrongKey.status).toBe(401);

    const notJson = await worker.postJson('/v1/embeddings', '{"input": [');
    expect(notJson.status).toBe(400);
    expect(notJson.body.error.code).toBe('invalid_json');
    const badId = await worker.postJson('/v1/embeddings', { input: [[101, 21128, 102]] });
    expect(badId.status).toBe(400);
    expect(badId.body.error.code).toBe('invalid_token_id');
    const unknown = await worker.postJson('/v1/embeddings', { input: 'x', model: 'gpt-4' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('model_not_found');
    // An over-long list is refused from the start of its body (the scan stops reading there), and
    // the isolate then serves the next request.
    const overlong = await worker.postJson('/v1/embeddings', `{"input":[${'[],'.repeat(19_999)}[]]}`);
    expect(overlong.status, JSON.stringify(overlong.body)).toBe(400);
    expect(overlong.body.error.param).toBe('input');
    expect(overlong.body.error.message).toMatch(/^input has more than 64 items; at most 64 are allowed per request/);
    const afterOverlong = await worker.postJson('/v1/embeddings', { input: 'hello' });
    expect(afterOverlong.status).toBe(200);
    const tooLarge = await worker.postJson('/v1/embeddings', { input: 'x'.repeat(70_000) });
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.body.error.code).toBe('request_too_large');
    const wrongMethod = await worker.get('/v1/embeddings');
    expect(wrongMethod.status).toBe(405);
    const noRoute = await worker.get('/nope');
    expect(noRoute.status).toBe(404);
    expect(noRoute.body.error.type).toBe('not_found_error');
  });
});

describe('Workers AI models through the AI binding', () => {
  it('embeds text with the model named, normalized by the service unless asked not to', async () => {
    const before = (await fakeAi.get('/')).body;
    const input = ['hello edge', '边缘计算'];
    const raw = await worker.postJson('/v1/embeddings', { input, model: TINY_AI, normalize: false });
    expect(raw.status, JSON.stringify(raw.body)).toBe(200);
    expect(raw.headers.get('x-corom-backend')).toBe('workers-ai');
    expect(raw.body.model).toBe(TINY_AI);
    raw.body.data.forEach((d: { embedding: number[] }, i: number) => expect(worstDifference(d.embedding, fakeAiVector(input[i], 4))).toBeLessThan(1e-6));
    expect(raw.body.usage.prompt_tokens).toBe(input.reduce((sum, t) => sum + t.length + 2, 0));

    const normalized = await worker.postJson('/v1/embeddings', { input: input[0], model: BGE });
    expect(normalized.status).toBe(200);
    expect(worstDifference(normalized.body.data[0].embedding, unit(fakeAiVector(input[0], 384)))).toBeLessThan(1e-6);

    const rerank = await worker.postJson('/v1/rerank', { model: TINY_AI, query: 'q', documents: ['a', 'bb'] });
    expect(rerank.status).toBe(200);
    expect(rerank.headers.get('x-corom-backend')).toBe('workers-ai');

    const after = (await fakeAi.get('/')).body;
    expect(after.calls - before.calls).toBe(3);
  });

  it('refuses token ids and /tokenize for them, and reports a failing model as a 500', async () => {
    const ids = await worker.postJson('/v1/embeddings', { input: [1, 2, 3], model: TINY_AI });
    expect(ids.status).toBe(400);
    expect(ids.body.error.code).toBe('token_ids_not_supported');
    const tokenize = await worker.postJson('/tokenize', { inputs: 'x', model: BGE });
    expect(tokenize.status).toBe(400);
    const failing = await worker.postJson('/v1/embeddings', { input: ['FAIL'], model: TINY_AI });
    expect(failing.status).toBe(500);
    expect(failing.body.error.code).toBe('inference_failed');
    expect(JSON.stringify(failing.body)).not.toMatch(/\n\s+at /);
  });
});

describe('edge cache', () => {
  it('answers a repeated request from the cache without running a backend', async () => {
    const request = { input: ['缓存命中吗', '第二句'], model: 'tiny-bert', normalize: false };
    const wasmBefore = answers((await worker.get('/metrics')).body, 'tiny-bert', 'wasm');
    const hitsBefore = answers((await worker.get('/metrics')).body, 'tiny-bert', 'cache');
    const first = await worker.postJson('/v1/embeddings', request);
    expect(first.status).toBe(200);
    expect(first.headers.get('x-corom-cache')).toBe('miss');
    const second = await worker.postJson('/v1/embeddings', request);
    expect(second.status).toBe(200);
    expect(second.headers.get('x-corom-cache')).toBe('hit');
    expect(second.headers.get('x-corom-backend')).toBe('wasm');
    expect(second.headers.get('x-request-id')).toBeTruthy();
    expect(second.headers.get('x-request-id')).not.toBe(first.headers.get('x-request-id'));
    expect(second.body).toEqual(first.body);
    // Other settings are other answers.
    const normalized = await worker.postJson('/v1/embeddings', { ...request, normalize: true });
    expect(normalized.headers.get('x-corom-cache')).toBe('miss');
    const metrics = (await worker.get('/metrics')).body;
    expect(answers(metrics, 'tiny-bert', 'wasm') - wasmBefore).toBe(2);
    expect(answers(metrics, 'tiny-bert', 'cache') - hitsBefore).toBe(1);

    const aiRequest = { input: 'cache me', model: TINY_AI };
    await worker.postJson('/v1/embeddings', aiRequest);
    const calls = (await fakeAi.get('/')).body.calls;
    const aiHit = await worker.postJson('/v1/embeddings', aiRequest);
    expect(aiHit.headers.get('x-corom-cache')).toBe('hit');
    expect(aiHit.headers.get('x-corom-backend')).toBe('workers-ai');
    expect((await fakeAi.get('/')).body.calls).toBe(calls);
  });
});
