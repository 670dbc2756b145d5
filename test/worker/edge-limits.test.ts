/**
 * What the Worker loads and what it refuses, in real workerd:
 *   - a q4 artifact with ONNX external data (model.q4.onnx + model.q4.onnx.data, as
 *     `convertCheckpoint(..., { dtype: 'q4', externalData: true })` writes it) loads from R2 and gives
 *     the same vectors as onnxruntime-web running that artifact under Node;
 *   - an artifact whose measured peak (corom.json edge.peakBytes) is over MEMORY_BUDGET_MB is
 *     refused with a 503 and /ready says why, while the routes that need no session still work;
 *   - a model missing from R2 is a 503 naming the R2 key, retried by later requests.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { ConvertedMetadata } from '../../src/store/metadata.js';
import { convertCheckpoint } from '../../src/store/convert.js';
import { createWasmEmbedder } from '../../src/runtime/ort-web.js';
import { startWorkerd, type WorkerdWorker } from './workerd-harness.js';

interface ExpectedCase {
  input_ids: number[][];
}

const FIXTURE = fileURLToPath(new URL('../fixtures/tiny-bert/', import.meta.url));
const cases = JSON.parse(await readFile(join(FIXTURE, 'expected.json'), 'utf8')) as ExpectedCase[];
const IDS = cases.flatMap((c) => c.input_ids);

let q4Dir: string;
let fp32Dir: string;
let external: WorkerdWorker;
let overBudget: WorkerdWorker;
let missing: WorkerdWorker;
let q4Meta: ConvertedMetadata;
let q4Expected: Float32Array[];

async function folderObjects(dir: string, prefix: string, files: string[]): Promise<Record<string, Uint8Array>> {
  const objects: Record<string, Uint8Array> = {};
  for (const file of files) objects[`${prefix}${file}`] = await readFile(join(dir, file));
  return objects;
}

beforeAll(async () => {
  [q4Dir, fp32Dir] = await Promise.all([mkdtemp(join(tmpdir(), 'corom-q4-ext-')), mkdtemp(join(tmpdir(), 'corom-budget-'))]);
  await convertCheckpoint(FIXTURE, q4Dir, { dtype: 'q4', externalData: true });
  await convertCheckpoint(FIXTURE, fp32Dir, { dtype: 'fp32' });
  q4Meta = JSON.parse(await readFile(join(q4Dir, 'corom.json'), 'utf8')) as ConvertedMetadata;
  // The expected vectors are computed before any Worker starts, not between requests: onnxruntime-web
  // blocks this process's event loop for seconds on a busy machine, and a request sent right after
  // that reuses a keep-alive socket (undici's idle timer could not run) that workerd has already
  // closed (it drops idle connections after ~5 s): "SocketError: other side closed".
  const embedder = await createWasmEmbedder(
    new Uint8Array(await readFile(join(q4Dir, 'model.q4.onnx'))),
    { id: 'tiny-q4', dimensions: 32, maxLength: 128, pooling: 'cls', dtype: 'q4', vocabSize: 21128 },
    {},
    [{ path: 'model.q4.onnx.data', data: new Uint8Array(await readFile(join(q4Dir, 'model.q4.onnx.data'))) }],
  );
  try {
    q4Expected = await embedder.embedTokens(IDS.map((ids) => Int32Array.from(ids)));
  } finally {
    await embedder.close();
  }

  // As scripts/edge-memory.ts --record would write it, with a peak over the 1 MB budget below.
  const measured = JSON.parse(await readFile(join(fp32Dir, 'corom.json'), 'utf8')) as ConvertedMetadata;
  measured.edge = { dtype: 'fp32', peakBytes: 5_000_000, wasmBytes: 4_000_000, jsBytes: 1_000_000, batchRows: 32, maxLength: 128 };

  const started = await Promise.allSettled([
    startWorkerd({
      objects: await folderObjects(q4Dir, 'models/tiny-q4/', ['corom.json', 'model.q4.onnx', 'model.q4.onnx.data', 'vocab.txt']),
      vars: { MODEL_ID: 'tiny-q4', MODEL_PREFIX: 'models/tiny-q4/', MODEL_DTYPE: 'q4' },
      // `ready` comes when wrangler's dev proxy listens; the proxy holds the first request until
      // workerd has started, which took 10-30 s here with three Workers starting on a busy 2-core box.
      requestTimeoutMs: 90_000,
    }),
    startWorkerd({
      objects: {
        ...(await folderObjects(fp32Dir, 'models/tiny-bert/', ['model.fp32.onnx', 'vocab.txt'])),
        'models/tiny-bert/corom.json': JSON.stringify(measured),
      },
      vars: { MODEL_ID: 'tiny-bert', MODEL_PREFIX: 'models/tiny-bert/', MODEL_DTYPE: 'fp32', MEMORY_BUDGET_MB: '1' },
    }),
    startWorkerd({ vars: { MODEL_ID: 'absent', MODEL_PREFIX: '', MODEL_DTYPE: 'q4' } }),
  ]);
  const failed = started.find((result) => result.status === 'rejected');
  if (failed) {
    // Stop whichever did start, so a failed setup leaves no workerd process behind.
    await Promise.all(started.map((result) => (result.status === 'fulfilled' ? result.value.dispose() : undefined)));
    throw failed.reason;
  }
  [external, overBudget, missing] = started.map((result) => (result as PromiseFulfilledResult<WorkerdWorker>).value) as [WorkerdWorker, WorkerdWorker, WorkerdWorker];
}, 120_000);

afterAll(async () => {
  await Promise.all([external?.dispose(), overBudget?.dispose(), missing?.dispose()]);
  await Promise.all([q4Dir, fp32Dir].filter(Boolean).map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('what the in-isolate backend loads', () => {
  it('loads a q4 artifact with external data from R2 and matches onnxruntime-web on the same artifact', async () => {
    expect(q4Meta.dtypes.q4?.externalData).toBe('model.q4.onnx.data');
    const response = await external.postJson('/v1/embeddings', { input: IDS, normalize: false });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(response.headers.get('x-corom-backend')).toBe('wasm');

    // onnxruntime-web under Node on the same artifact (computed in beforeAll).
    expect(response.body.data).toHaveLength(IDS.length);
    response.body.data.forEach((d: { embedding: number[] }, i: number) => {
      expect(Math.max(...d.embedding.map((v, j) => Math.abs(v - q4Expected[i]![j]!)))).toBeLessThan(1e-4);
    });

    const info = (await external.get('/info')).body.edge;
    expect(info.model).toMatchObject({ loaded: true, file: 'model.q4.onnx', externalData: 'model.q4.onnx.data', peakSource: 'estimate' });
    expect(info.model.artifactBytes).toBe(q4Meta.dtypes.q4!.bytes);
    expect(info.wasmMemoryBytes).toBeGreaterThanOrEqual(16 * 1024 * 1024);
  });

  it('refuses an artifact whose measured peak is over MEMORY_BUDGET_MB, and says so on /ready', async () => {
    for (const [path, body] of [
      ['/v1/embeddings', { input: 'hello' }],
      ['/v1/sentence-embedding', { input: { source_sentence: ['你好'] } }],
    ] as const) {
      const response = await overBudget.postJson(path, body);
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('30');
      expect(response.body.error).toMatchObject({ type: 'server_error', code: 'model_over_memory_budget' });
      expect(response.body.error.message).toContain('5.0 MB at peak');
      expect(response.body.error.message).toContain('MEMORY_BUDGET_MB of 1.0 MB');
      expect(response.body.error.message).toContain('measured by scripts/edge-memory.ts');
    }
    const ready = await overBudget.get('/ready');
    expect(ready.status).toBe(503);
    expect(ready.body.error.code).toBe('model_not_ready');
    expect(ready.body.error.message).toContain("model 'tiny-bert' (model.fp32.onnx) needs about 5.0 MB");

    // Nothing was loaded; what needs no session still answers.
    const health = await overBudget.get('/health');
    expect(health.body.edge).toEqual({ wasmMemoryBytes: null, model: { id: 'tiny-bert', loaded: false, peakBytes: 5e6, budgetBytes: 1e6 } });
    const models = await overBudget.get('/v1/models');
    expect(models.body.data.map((m: { id: string }) => m.id)).toEqual(['tiny-bert']);
    const tokenize = await overBudget.postJson('/tokenize', { inputs: '你好' });
    expect(tokenize.status).toBe(200);
    expect(tokenize.body.data[0].ids).toEqual([101, 872, 1962, 102]);
  });

  it('answers a model missing from R2 with a 503 naming the key, and retries on the next request', async () => {
    for (let attempt = 0; attempt < 2; attempt++) {
      const response = await missing.postJson('/v1/embeddings', { input: 'hello' });
      expect(response.status).toBe(503);
      // The app's answer while its models loader fails (called again by the next request).
      expect(response.body.error.code).toBe('model_not_ready');
      expect(response.headers.get('x-request-id')).toBeTruthy();
      expect(response.body.error.message).toContain('r2://MODELS/models/absent/corom.json');
      expect(response.body.error.message).not.toMatch(/\n\s+at /);
    }
    const ready = await missing.get('/ready');
    expect(ready.status).toBe(503);
    expect(ready.body.error.message).toContain('r2://MODELS/models/absent/corom.json');
    expect((await missing.get('/health')).status).toBe(200);
  });
});
