/**
 * Cold start in real workerd after a /health: the first request builds the app and starts the
 * model load in its own request context; a burst of cold embedding requests that follows must all
 * be answered (none may hang on work that belongs to a request workerd already finished), and so
 * must the request after them. Variants: the burst after /health answered, the burst while /health
 * is in flight, a burst that needs two batches, text inputs with a dev registry, and the client of
 * the request that started the cold batch going away, and requests arriving while the first cold
 * batch creates the session (they wait for a second batch, scheduled from the first request).
 *
 * The load started by /health outlives it only through the keep-alive in worker/edge-app.ts
 * (edgeLifecycle -> InFlight.keepAlive -> ctx.waitUntil): without it every one of these requests
 * hangs (checked by removing that call: all three burst requests time out).
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

import { referenceEmbedding, TINY_HIDDEN, tinyEmbeddingModel, tinyWeights } from './tiny-embedding-model.js';
import { startWorkerd, type HttpResult, type WorkerdWorker } from './workerd-harness.js';

const vocabText = readFileSync(new URL('../fixtures/tiny-bert/vocab.txt', import.meta.url), 'utf8');
const VOCAB_SIZE = 21128;
const weights = tinyWeights(VOCAB_SIZE);
const model = tinyEmbeddingModel(weights);
const CLS = 101;
const SEP = 102;
const sequences = [
  [CLS, 2769, 4263, 872, SEP],
  [CLS, 1962, SEP],
  [CLS, 100, 3300, 671, 702, 1377, 809, SEP],
];

const coromJson = JSON.stringify({
  format: 1,
  hidden: TINY_HIDDEN,
  layers: 1,
  heads: 1,
  intermediate: TINY_HIDDEN,
  vocabSize: VOCAB_SIZE,
  maxPositions: 512,
  maxLength: 128,
  pooling: 'mean',
  dtypes: { fp32: { file: 'model.fp32.onnx', bytes: model.byteLength } },
});

let served: WorkerdWorker | undefined;

async function coldWorker(registry?: string): Promise<WorkerdWorker> {
  served = await startWorkerd({
    ...(registry ? { registry } : {}),
    objects: { 'tiny/corom.json': coromJson, 'tiny/model.fp32.onnx': model, 'tiny/vocab.txt': vocabText },
    vars: { MODEL_PREFIX: 'tiny/', MODEL_DTYPE: 'fp32', MODEL_ID: 'tiny-test' },
    // A hung request fails the test well inside its own timeout.
    requestTimeoutMs: 15_000,
  });
  return served;
}

afterEach(async () => {
  await served?.dispose();
  served = undefined;
});

/** Status, or the client-side failure (a timeout when the Worker never answers). */
const outcome = (request: Promise<HttpResult>): Promise<number | string> =>
  request.then(
    (r) => r.status,
    (error: unknown) => (error instanceof Error ? error.name : String(error)),
  );

/** Every request answered 200; the message lists each status or client-side error (TimeoutError: it hung). */
function expectAnswered(outcomes: Array<number | string>, count: number): void {
  expect(outcomes, JSON.stringify(outcomes)).toEqual(Array.from({ length: count }, () => 200));
}

function expectReference(result: HttpResult): void {
  expect(result.status).toBe(200);
  result.body.data.forEach((item: { embedding: number[] }, i: number) => {
    const expected = referenceEmbedding(weights, sequences[i]!);
    const worst = Math.max(...item.embedding.map((v, j) => Math.abs(v - expected[j]!)));
    expect(worst).toBeLessThan(1e-4);
  });
}

describe('cold burst in workerd after /health', () => {
  it('answers a /health, then three concurrent cold embedding requests, then one more', async () => {
    const worker = await coldWorker();
    const health = await worker.get('/health');
    expect(health.status).toBe(200);
    const burst = [0, 1, 2].map(() => worker.postJson('/v1/embeddings', { input: sequences, model: 'tiny-test', normalize: false }));
    expectAnswered(await Promise.all(burst.map(outcome)), 3);
    for (const result of await Promise.all(burst)) expectReference(result);
    const next = await worker.postJson('/v1/embeddings', { input: sequences, normalize: false });
    expectReference(next);
  }, 90_000);

  it('answers three cold embedding requests sent while the /health that started the load is in flight', async () => {
    const worker = await coldWorker();
    const health = worker.get('/health');
    const burst = [0, 1, 2].map(() => worker.postJson('/v1/embeddings', { input: sequences, model: 'tiny-test', normalize: false }));
    expect(await outcome(health)).toBe(200);
    expectAnswered(await Promise.all(burst.map(outcome)), 3);
    for (const result of await Promise.all(burst)) expectReference(result);
    const next = await worker.postJson('/v1/embeddings', { input: sequences, normalize: false });
    expectReference(next);
  }, 90_000);

  it('answers three cold requests whose sequences need two batches, then one more', async () => {
    const worker = await coldWorker();
    // 3 x 30 rows: more than a batch holds (64 rows), so the last request waits for a second batch.
    const many = Array.from({ length: 30 }, (_, i) => sequences[i % sequences.length]!);
    expect((await worker.get('/health')).status).toBe(200);
    const burst = [0, 1, 2].map(() => worker.postJson('/v1/embeddings', { input: many, model: 'tiny-test', normalize: false }));
    expectAnswered(await Promise.all(burst.map(outcome)), 3);
    const next = await worker.postJson('/v1/embeddings', { input: sequences, normalize: false });
    expectReference(next);
  }, 90_000);

  it('answers cold text requests after /health when the Worker follows a dev registry', async () => {
    const registry = await mkdtemp(join(tmpdir(), 'corom-registry-'));
    try {
      const worker = await coldWorker(registry);
      expect((await worker.get('/health')).status).toBe(200);
      const burst = ['我爱你', '你好', '今天天气很好'].map((text) => worker.postJson('/v1/embeddings', { input: [text, `${text}吗`], normalize: false }));
      expectAnswered(await Promise.all(burst.map(outcome)), 3);
      const next = await worker.postJson('/v1/embeddings', { input: sequences, normalize: false });
      expectReference(next);
    } finally {
      await served?.dispose();
      served = undefined;
      await rm(registry, { recursive: true, force: true });
    }
  }, 90_000);

  // The batch that serves all three runs in the first request's context; its client goes away
  // mid-batch. Before the batcher kept batches alive with a waiting request's waitUntil, the other
  // two timed out in 2 of 5 runs (workerd cancelled the batch with the abandoned request).
  it('answers the others when the client of the request that started the cold batch goes away', async () => {
    const worker = await coldWorker();
    expect((await worker.get('/health')).status).toBe(200);
    const gone = new AbortController();
    const first = fetch(new URL('/v1/embeddings', worker.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ input: sequences, normalize: false }),
      signal: gone.signal,
    }).then((r) => r.status, (error: unknown) => (error instanceof Error ? error.name : String(error)));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const others = [0, 1].map(() => worker.postJson('/v1/embeddings', { input: sequences, normalize: false }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    gone.abort();
    console.info('first', await first);
    expectAnswered(await Promise.all(others.map(outcome)), 2);
    const next = await worker.postJson('/v1/embeddings', { input: sequences, normalize: false });
    expectReference(next);
  }, 90_000);

  it('answers requests that arrive while the first cold batch loads the session, then one more', async () => {
    const worker = await coldWorker();
    expect((await worker.get('/health')).status).toBe(200);
    // The description is read; the first request's batch now creates the ORT session (hundreds of ms).
    expect((await worker.get('/v1/models')).status).toBe(200);
    const first = worker.postJson('/v1/embeddings', { input: sequences, normalize: false });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const later = [0, 1].map(() => worker.postJson('/v1/embeddings', { input: sequences, normalize: false }));
    expectAnswered(await Promise.all([first, ...later].map(outcome)), 3);
    // Usually two batches (the later two requests wait for the first): the scheduling after a batch runs in the first request's context.
    console.info(String((await worker.get('/metrics')).body).split('\n').filter((l) => /batch_size_(count|sum)/.test(l)).join('\n'));
    const next = await worker.postJson('/v1/embeddings', { input: sequences, normalize: false });
    expectReference(next);
  }, 90_000);
});
