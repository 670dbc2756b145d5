/**
 * Origin failover in real workerd. The Worker's ORIGINS are three loopback origins:
 *   - a real `corom serve` of the fixture under another model id (must never be used),
 *   - a real `corom serve` of the fixture as `tiny-bert` (the good origin; needs ORIGIN_API_KEY),
 *   - a stalling origin that passes health checks but never answers (must time out),
 * and the same model in R2 for the in-isolate backend. Origin up: it answers. Origin killed: the
 * isolate answers and no request fails. Origin back on the same port: it answers again once the
 * circuit breaker's (short) interval has passed. Every answer is checked against expected.json,
 * whoever gave it.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { convertCheckpoint } from '../../src/store/convert.js';
import { startCoromServe, startStallingOrigin, type CoromOrigin, type StallingOrigin } from './origin-process.js';
import { startWorkerd, type WorkerdWorker } from './workerd-harness.js';
import { EXPECTED, FIXTURE_DIR } from '../helpers/fixture.js';

const FIXTURE = FIXTURE_DIR;
const cases = EXPECTED;
const reference = cases.find((c) => (c.sentences_to_compare?.length ?? 0) >= 2)!;
const TEXTS = [...reference.source_sentence, ...(reference.sentences_to_compare ?? [])];
const ORIGIN_KEY = 'origin-secret';
const TIMEOUT_MS = 800;
const RETRY_MS = 1500;

let converted: string;
let good: CoromOrigin;
let wrongModel: CoromOrigin;
let stalling: StallingOrigin;
let worker: WorkerdWorker;

beforeAll(async () => {
  converted = await mkdtemp(join(tmpdir(), 'corom-failover-'));
  await convertCheckpoint(FIXTURE, converted, { dtype: 'fp32' });
  const objects: Record<string, Uint8Array> = {};
  for (const file of ['corom.json', 'model.fp32.onnx', 'vocab.txt']) objects[`models/tiny-bert/${file}`] = await readFile(join(converted, file));
  [good, wrongModel, stalling] = await Promise.all([
    startCoromServe({ model: converted, modelId: 'tiny-bert', apiKey: ORIGIN_KEY }),
    startCoromServe({ model: converted, modelId: 'other-model', apiKey: ORIGIN_KEY }),
    startStallingOrigin({ id: 'tiny-bert', dimensions: 32 }),
  ]);
  worker = await startWorkerd({
    objects,
    vars: {
      MODEL_ID: 'tiny-bert',
      MODEL_PREFIX: 'models/tiny-bert/',
      MODEL_DTYPE: 'fp32',
      ORIGINS: [wrongModel.url, good.url, stalling.url].join(','),
      ORIGIN_API_KEY: ORIGIN_KEY,
      ORIGIN_TIMEOUT_MS: String(TIMEOUT_MS),
      ORIGIN_FAILURES: '2',
      ORIGIN_RETRY_MS: String(RETRY_MS),
      ORIGIN_HEALTH_MS: '60000',
    },
  });
}, 90_000);

afterAll(async () => {
  await Promise.all([worker?.dispose(), good?.kill(), wrongModel?.kill(), stalling?.close()]);
  if (converted) await rm(converted, { recursive: true, force: true });
});

/** One embeddings request (no model named: the Worker names it for the origin); checks the vectors. */
async function embed(): Promise<string> {
  const response = await worker.postJson('/v1/embeddings', { input: TEXTS, normalize: false });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  expect(response.body.model).toBe('tiny-bert');
  response.body.data.forEach((d: { embedding: number[] }, i: number) => {
    const expected = reference.text_embedding[i];
    expect(Math.max(...d.embedding.map((v, j) => Math.abs(v - expected[j])))).toBeLessThan(1e-4);
  });
  return response.headers.get('x-corom-backend')!;
}

describe('origins in front of the in-isolate backend', () => {
  it('uses the origin that serves the model, skips the wrong-model one, times out the hung one', async () => {
    const backends: string[] = [];
    for (let i = 0; i < 6; i++) backends.push(await embed());
    expect(backends).toEqual(Array(6).fill(`origin:${good.url}`));

    const pipeline = await worker.postJson('/v1/sentence-embedding', { input: { source_sentence: reference.source_sentence, sentences_to_compare: reference.sentences_to_compare } });
    expect(pipeline.status).toBe(200);
    expect(pipeline.headers.get('x-corom-backend')).toBe(`origin:${good.url}`);
    reference.scores.forEach((score, i) => expect(Math.abs(pipeline.body.scores[i] - score) / Math.abs(score)).toBeLessThan(1e-3));

    // An invalid request is refused by the Worker's app itself: no backend, no origin asked.
    const posts = stalling.posts;
    const invalid = await worker.postJson('/v1/embeddings', { input: [], model: 'tiny-bert' });
    expect(invalid.status).toBe(400);
    expect(invalid.headers.get('x-corom-backend')).toBeNull();
    expect(invalid.headers.get('x-request-id')).toBeTruthy();
    expect(stalling.posts).toBe(posts);

    // Every origin answer passed through the app: counted per backend in its /metrics.
    const metrics = (await worker.get('/metrics')).body as string;
    expect(metrics).toContain(`corom_answers_total{model="tiny-bert",backend="origin:${good.url}"} 7`);

    const origins = (await worker.get('/info')).body.edge.origins as Array<Record<string, any>>;
    const byUrl = Object.fromEntries(origins.map((o) => [o.url, o]));
    expect(byUrl[wrongModel.url].models).toEqual({ 'other-model': 32 });
    expect(byUrl[wrongModel.url].answered).toBe(0);
    expect(byUrl[good.url]).toMatchObject({ breaker: 'closed', models: { 'tiny-bert': 32 } });
    expect(byUrl[stalling.url].answered).toBe(0);
    expect(byUrl[stalling.url].failed).toBeGreaterThanOrEqual(2);
    expect(byUrl[stalling.url].lastError).toContain(`timed out after ${TIMEOUT_MS} ms`);
    expect(stalling.posts).toBeGreaterThanOrEqual(2);
  });

  it('answers in the isolate while the origin is down, and goes back to the origin when it returns', async () => {
    const port = good.port;
    await good.kill();
    const down: string[] = [];
    for (let i = 0; i < 6; i++) down.push(await embed());
    expect(down).toEqual(Array(6).fill('wasm'));
    const info = (await worker.get('/info')).body.edge;
    expect(info.origins.find((o: { url: string }) => o.url === good.url).breaker).not.toBe('closed');
    const wasmAnswers = /corom_answers_total\{model="tiny-bert",backend="wasm"\} (\d+)/.exec((await worker.get('/metrics')).body as string);
    expect(Number(wasmAnswers?.[1])).toBeGreaterThanOrEqual(6);

    good = await startCoromServe({ model: converted, modelId: 'tiny-bert', apiKey: ORIGIN_KEY, port });
    const started = Date.now();
    let backend = await embed();
    // Bounded: the breaker lets a trial through RETRY_MS after its last failure.
    while (backend !== `origin:${good.url}` && Date.now() - started < 20_000) {
      expect(backend).toBe('wasm');
      await new Promise((resolve) => setTimeout(resolve, 200));
      backend = await embed();
    }
    expect(backend).toBe(`origin:${good.url}`);
    for (let i = 0; i < 3; i++) expect(await embed()).toBe(`origin:${good.url}`);
  });
});
