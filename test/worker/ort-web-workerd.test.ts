/**
 * onnxruntime-web 1.30.0 inside real workerd: the Worker reads a small ONNX model (Gather, masked
 * mean, MatMul + Add, LayerNormalization) from local R2, runs it through ort-web's WebAssembly
 * instantiated from the deploy-time-compiled module, and must match a float64 TypeScript
 * reference, through the service's /v1/embeddings. Also: the service's errors for bad requests.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { referenceEmbedding, TINY_HIDDEN, tinyEmbeddingModel, tinyWeights } from './tiny-embedding-model.js';
import { startWorkerd, type WorkerdWorker } from './workerd-harness.js';

const vocabText = readFileSync(new URL('../fixtures/tiny-bert/vocab.txt', import.meta.url), 'utf8');
const VOCAB_SIZE = 21128;
const weights = tinyWeights(VOCAB_SIZE);
const model = tinyEmbeddingModel(weights);
const CLS = 101;
const SEP = 102;

function coromJson(bytes: number): string {
  return JSON.stringify({
    format: 1,
    hidden: TINY_HIDDEN,
    layers: 1,
    heads: 1,
    intermediate: TINY_HIDDEN,
    vocabSize: VOCAB_SIZE,
    maxPositions: 512,
    maxLength: 128,
    pooling: 'mean',
    dtypes: { fp32: { file: 'model.fp32.onnx', bytes } },
  });
}

let served: WorkerdWorker;

beforeAll(async () => {
  served = await startWorkerd({
    objects: { 'tiny/corom.json': coromJson(model.byteLength), 'tiny/model.fp32.onnx': model, 'tiny/vocab.txt': vocabText },
    vars: { MODEL_PREFIX: 'tiny/', MODEL_DTYPE: 'fp32', MODEL_ID: 'tiny-test' },
  });
}, 60_000);

afterAll(async () => {
  await served?.dispose();
});

function expectClose(actual: readonly number[], expected: readonly number[], tolerance: number): void {
  expect(actual).toHaveLength(expected.length);
  const worst = Math.max(...actual.map((v, i) => Math.abs(v - expected[i])));
  expect(worst).toBeLessThan(tolerance);
}

describe('onnxruntime-web in workerd', () => {
  it('loads the model from R2 once on first use and matches the reference for a padded batch', async () => {
    const before = await served.get('/health');
    expect(before.body).toMatchObject({ status: 'ok', edge: { wasmMemoryBytes: null, model: { id: 'tiny-test', loaded: false } } });

    // Different lengths: the shorter rows are padded, and the mask must keep padding out.
    const sequences = [
      [CLS, 2769, 4263, 872, SEP],
      [CLS, 1962, SEP],
      [CLS, 100, 3300, 671, 702, 1377, 809, SEP],
    ];
    // Three cold requests at once: they share one R2 read and one session across request contexts.
    const [cold, ...alsoCold] = await Promise.all(
      [0, 1, 2].map(() => served.postJson('/v1/embeddings', { input: sequences, model: 'tiny-test', normalize: false })),
    );
    expect(cold.status).toBe(200);
    for (const other of alsoCold) expect(other.body).toEqual(cold.body);
    expect(cold.body.object).toBe('list');
    expect(cold.body.model).toBe('tiny-test');
    expect(cold.body.usage).toEqual({ prompt_tokens: 16, total_tokens: 16 });
    expect(cold.body.data).toHaveLength(3);
    cold.body.data.forEach((item: { index: number; embedding: number[] }, i: number) => {
      expect(item.index).toBe(i);
      expectClose(item.embedding, referenceEmbedding(weights, sequences[i]), 1e-4);
    });

    const warm = await served.postJson('/v1/embeddings', { input: sequences, normalize: false });
    expect(warm.status).toBe(200);
    expect(warm.body.data.map((d: { embedding: number[] }) => d.embedding)).toEqual(cold.body.data.map((d: { embedding: number[] }) => d.embedding));

    const models = await served.get('/v1/models');
    expect(models.body.data[0]).toMatchObject({ id: 'tiny-test', dimensions: TINY_HIDDEN, dtype: 'fp32', pooling: 'mean', backend: 'onnxruntime-web/wasm (workerd)' });
    const edge = (await served.get('/info')).body.edge;
    expect(edge.model).toMatchObject({ loaded: true, artifactBytes: model.byteLength, sessions: 1 });
    // Read from ORT's own linear memory: whole 64 KiB pages, at least the glue's initial 16 MiB.
    expect(edge.wasmMemoryBytes % 65536).toBe(0);
    expect(edge.wasmMemoryBytes).toBeGreaterThanOrEqual(16 * 1024 * 1024);
    console.info(
      `workerd cold request ${cold.ms.toFixed(0)} ms, warm ${warm.ms.toFixed(0)} ms; in-Worker load ${JSON.stringify(edge.model.loadTimings)}; ` +
        `wasm memory ${(edge.wasmMemoryBytes / 2 ** 20).toFixed(1)} MiB for a ${(model.byteLength / 2 ** 20).toFixed(2)} MiB model`,
    );
  });

  it('completes bare token ids with [CLS]/[SEP] and encodes base64 floats', async () => {
    const bare = await served.postJson('/v1/embeddings', { input: [2769, 4263, 872], encoding_format: 'base64', normalize: false });
    expect(bare.status).toBe(200);
    const bytes = Buffer.from(bare.body.data[0].embedding as string, 'base64');
    const vector = Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4));
    expectClose(vector, referenceEmbedding(weights, [CLS, 2769, 4263, 872, SEP]), 1e-4);
  });

  it('answers bad requests with OpenAI-shaped 4xx errors, never a crash', async () => {
    const notJson = await served.postJson('/v1/embeddings', '{"input": [');
    expect(notJson.status).toBe(400);
    expect(notJson.body.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_json' });

    const badShape = await served.postJson('/v1/embeddings', { input: [1, 'two'] });
    expect(badShape.status).toBe(400);
    expect(badShape.body.error.param).toBe('input[1]');

    const badId = await served.postJson('/v1/embeddings', { input: [[CLS, VOCAB_SIZE, SEP]] });
    expect(badId.status).toBe(400);
    expect(badId.body.error.message).toContain("outside this model's vocabulary");

    const badDimensions = await served.postJson('/v1/embeddings', { input: 'x', dimensions: TINY_HIDDEN + 1 });
    expect(badDimensions.status).toBe(400);
    expect(badDimensions.body.error.param).toBe('dimensions');

    const wrongMethod = await served.get('/v1/embeddings');
    expect(wrongMethod.status).toBe(405);
    const unknown = await served.get('/nope');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.type).toBe('not_found_error');
  });
});
