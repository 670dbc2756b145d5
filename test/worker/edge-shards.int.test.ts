/**
 * The layer-shard path in real workerd, every Worker running: the front Worker (wrangler.toml,
 * MODEL_SHARDS=int8) and the two shard Workers (wrangler.shard.toml, environments shard1 and
 * shard2), each its own workerd isolate with its own local R2, joined by the service bindings
 * SHARD_1 / SHARD_2 through a dev registry. The model is the tiny fixture converted to int8 and
 * split in two (`convertShards`, ORT format), measured and recorded by scripts/edge-memory.ts's
 * code (--record: each shard's peak and the batch cap, here 2 rows).
 *
 * Checks: vectors equal to the Node int8 engine run with the same batches (int8 activations are
 * quantized per run); a request larger than the cap split into several runs (the shards count
 * them); concurrent requests, one of them abandoned by its client mid-batch, all answered; the low-memory loader really captured onnxruntime-web's Emscripten
 * module inside workerd; a missing shard Worker -> 503 naming the shard, its R2 key and binding,
 * on a request and on /ready (which asks every shard Worker's GET /ready).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { Engine } from '../../src/engine/engine.js';
import { loadEngine } from '../../src/engine/load.js';
import { lengthBuckets } from '../../src/runtime/length-buckets.js';
import { convertCheckpoint } from '../../src/store/convert.js';
import type { ConvertedMetadata } from '../../src/store/metadata.js';
import { convertShards } from '../../src/store/shards.js';
import { measureShardSets } from '../../scripts/lib/shard-table.js';
import { cosine, FIXTURE_DIR, maxAbsDiff } from '../helpers/fixture.js';
import { startWorkerd, WRANGLER_SHARD_CONFIG, type WorkerdWorker } from './workerd-harness.js';

const PREFIX = 'models/tiny-shards/';
const VARS = { MODEL_ID: 'tiny-shards', MODEL_PREFIX: PREFIX, MODEL_SHARDS: 'int8' };
const TEXTS = ['今天天气怎么样', '北京是中国的首都', '测'.repeat(200), '吃完海鲜可以喝牛奶吗?', '你好'];

let dir: string;
let registry: string;
let meta: ConvertedMetadata;
let engine: Engine;
let shard1: WorkerdWorker;
let shard2: WorkerdWorker;
let front: WorkerdWorker;
let orphan: WorkerdWorker;

async function objects(files: string[]): Promise<Record<string, Uint8Array>> {
  const out: Record<string, Uint8Array> = {};
  for (const file of files) out[`${PREFIX}${file}`] = await readFile(join(dir, file));
  return out;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'corom-edge-shards-'));
  registry = await mkdtemp(join(tmpdir(), 'corom-registry-'));
  await convertCheckpoint(FIXTURE_DIR, dir, { dtype: 'int8' });
  await convertShards(FIXTURE_DIR, dir, { dtype: 'int8', shards: 2, ortFormat: true });
  // As `scripts/edge-memory.ts --record DIR --rows 1,2` does: each shard measured as the Worker
  // loads it, the cap (2 rows here: the largest size measured) and the peaks written to corom.json.
  await measureShardSets([dir], { rows: [1, 2], capBudgetBytes: 115e6, compareLoading: false, command: 'test' });
  meta = JSON.parse(await readFile(join(dir, 'corom.json'), 'utf8')) as ConvertedMetadata;
  engine = await loadEngine({ model: dir, dtype: 'int8', backend: 'node', threads: 1 });
  const set = meta.shards!.int8!;

  const started = await Promise.allSettled([
    // With the inspector open: each shard isolate's JS memory is read through it below.
    startWorkerd({ config: WRANGLER_SHARD_CONFIG, env: 'shard1', registry, vars: VARS, objects: await objects(['corom.json', set.shards[0]!.ortFile!]), inspect: true }),
    startWorkerd({ config: WRANGLER_SHARD_CONFIG, env: 'shard2', registry, vars: VARS, objects: await objects(['corom.json', set.shards[1]!.ortFile!]), inspect: true }),
    // Local service-binding calls go through wrangler's dev registry and take up to seconds on a
    // loaded 2-core machine: generous queue and client deadlines (no timing is asserted).
    startWorkerd({ registry, vars: { ...VARS, REQUEST_TIMEOUT_MS: '120000' }, objects: await objects(['corom.json', 'vocab.txt']), requestTimeoutMs: 150_000 }),
    // SHARD_2 bound to a Worker that is not running (never deployed, say).
    startWorkerd({
      registry,
      vars: VARS,
      objects: await objects(['corom.json', 'vocab.txt']),
      bindings: { SHARD_2: { type: 'service', service: 'corom-edge-shard-absent' } },
    }),
  ]);
  const failed = started.find((r) => r.status === 'rejected');
  if (failed) {
    await Promise.all(started.map((r) => (r.status === 'fulfilled' ? r.value.dispose() : undefined)));
    throw failed.reason;
  }
  [shard1, shard2, front, orphan] = started.map((r) => (r as PromiseFulfilledResult<WorkerdWorker>).value) as WorkerdWorker[] as [WorkerdWorker, WorkerdWorker, WorkerdWorker, WorkerdWorker];
  // wrangler's dev registry learns of the shard Workers asynchronously: until it has, the front's
  // binding answers "Worker ... not found". Wait (bounded) until one run goes through; what the
  // tests assert is unchanged.
  const deadline = Date.now() + 60_000;
  for (;;) {
    const probe = await front.postJson('/v1/embeddings', { input: 'x', normalize: false });
    if (probe.status === 200) break;
    const registering = probe.status === 503 && /not found\. Make sure it is running locally/.test(String(probe.body?.error?.message));
    if (!registering || Date.now() > deadline) throw new Error(`the shard Workers did not become reachable: ${probe.status} ${JSON.stringify(probe.body)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}, 240_000);

afterAll(async () => {
  await Promise.all([shard1?.dispose(), shard2?.dispose(), front?.dispose(), orphan?.dispose()]);
  await engine?.close();
  await Promise.all([dir, registry].filter(Boolean).map((d) => rm(d, { recursive: true, force: true })));
});

/** What onnxruntime-node's int8 gives for `texts` run in the same batches as the shard chain. */
async function nodeInt8(texts: string[]): Promise<Float32Array[]> {
  const cap = meta.shards!.int8!.batchCap!;
  const ids = engine.tokenize(texts);
  const out = new Array<Float32Array>(texts.length);
  for (const b of lengthBuckets(ids.map((s) => s.length), { maxBatchSize: cap.rows, maxBatchTokens: cap.rows * cap.maxLength })) {
    (await engine.embedTokens(b.map((i) => ids[i]!))).forEach((v, row) => (out[b[row]!] = v));
  }
  return out;
}

function compare(body: any, expected: Float32Array[]): { minCosine: number; maxAbs: number } {
  let minCosine = 1;
  let maxAbs = 0;
  body.data.forEach((d: { embedding: number[] }, i: number) => {
    minCosine = Math.min(minCosine, cosine(d.embedding, expected[i]!));
    maxAbs = Math.max(maxAbs, maxAbsDiff(d.embedding, expected[i]!));
  });
  return { minCosine, maxAbs };
}

describe('coROM-style layer shards across Workers in workerd', () => {
  it('records a cap and per-shard peaks that the Worker uses', () => {
    const set = meta.shards!.int8!;
    expect(set.batchCap).toEqual({ rows: 2, maxLength: meta.maxLength });
    // Peak = WASM + the JS heap above baseline; the JS part of a tiny shard can sample as 0.
    for (const shard of set.shards) {
      expect(shard.edge!.wasmBytes).toBeGreaterThan(0);
      expect(shard.edge!.jsBytes).toBeGreaterThanOrEqual(0);
      expect(shard.edge!.peakBytes).toBe(shard.edge!.wasmBytes + shard.edge!.jsBytes);
    }
  });

  it('answers with the Node int8 vectors, a request over the cap split into runs of the cap', { timeout: 180_000 }, async () => {
    // Runs so far (the readiness probe's): the request below must add exactly 3 to each shard.
    const before = await Promise.all([shard1.get('/health'), shard2.get('/health')]);
    const response = await front.postJson('/v1/embeddings', { input: TEXTS, normalize: false });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(response.headers.get('x-corom-backend')).toBe('wasm-shards:2');
    const { minCosine, maxAbs } = compare(response.body, await nodeInt8(TEXTS));
    console.log(`tiny fixture, int8 in 2 shard Workers (workerd) vs onnxruntime-node int8, same batches: min cosine ${minCosine.toFixed(7)}, max abs diff ${maxAbs.toExponential(2)}`);
    expect(minCosine).toBeGreaterThanOrEqual(0.9999);

    // 5 inputs at a cap of 2 rows: 3 runs through each shard.
    const [h1, h2] = await Promise.all([shard1.get('/health'), shard2.get('/health')]);
    expect(h1.body).toMatchObject({ shard: 1, of: 2, loaded: true, runs: before[0].body.runs + 3, batchLimits: { maxBatchSize: 2, maxBatchTokens: 2 * meta.maxLength } });
    expect(h2.body).toMatchObject({ shard: 2, of: 2, loaded: true, runs: before[1].body.runs + 3 });
    // The low-memory loader ran in workerd: the Emscripten module was captured, the model buffer
    // lives in WASM memory, grown up front to the recorded need.
    for (const [h, shard] of [[h1, 0], [h2, 1]] as const) {
      expect(h.body.emscriptenModule).toBe(true);
      expect(h.body.modelPointer).toBeGreaterThan(0);
      expect(h.body.reserveBytes).toBe(meta.shards!.int8!.shards[shard]!.edge!.reserveBytes);
      expect(h.body.wasmMemoryBytes).toBeGreaterThanOrEqual(h.body.reserveBytes);
      // The isolate's JS side, which the Worker cannot see itself: read through the V8 inspector.
      const heap = await [shard1, shard2][shard]!.heap!();
      expect(heap.usedBytes).toBeGreaterThan(1e6); // at least the Worker's own code
      expect(heap.totalBytes).toBeGreaterThanOrEqual(heap.usedBytes);
      const edge = meta.shards!.int8!.shards[shard]!.edge!;
      const mb = (n: number): string => (n / 1e6).toFixed(1);
      console.log(
        `shard ${shard + 1} in workerd: WASM ${mb(h.body.wasmMemoryBytes)} MB, JS ${mb(heap.usedBytes + heap.arrayBufferBytes)} MB (V8 heap used ${mb(heap.usedBytes)} + ArrayBuffers ${mb(heap.arrayBufferBytes)}); recorded by the harness: WASM ${mb(edge.wasmBytes)} + JS ${mb(edge.jsBytes)} MB`,
      );
    }

    const info = (await front.get('/info')).body.edge.model;
    expect(info).toMatchObject({ shards: 2, loaded: true, peakSource: 'measured', batchLimits: { maxBatchSize: 2 } });
    expect(info.shardList.map((s: { binding: string; bound: boolean }) => [s.binding, s.bound])).toEqual([['SHARD_1', true], ['SHARD_2', true]]);
    expect((await front.get('/ready')).status).toBe(200);
  });

  it('answers concurrent requests, one of them abandoned by its client, each with the Node int8 vectors', { timeout: 180_000 }, async () => {
    // Batches are shared by requests and run in the context of one of them; the shard calls are
    // I/O of that context. Several rounds: which request's context runs a batch varies.
    for (let round = 0; round < 3; round++) {
      const gone = new AbortController();
      const abandoned = fetch(new URL('/v1/embeddings', front.url), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ input: TEXTS.slice(0, 3), normalize: false }),
        signal: gone.signal,
      }).catch(() => undefined);
      const requests = [TEXTS, TEXTS.slice(1), TEXTS.slice(0, 2), [TEXTS[4]!]].map((input) => front.postJson('/v1/embeddings', { input, normalize: false }));
      setTimeout(() => gone.abort(), 20 * round);
      const results = await Promise.allSettled(requests);
      await abandoned;
      const statuses = results.map((r) => (r.status === 'fulfilled' ? r.value.status : String(r.reason)));
      const firstError = results.find((r) => r.status === 'fulfilled' && r.value.status !== 200) as PromiseFulfilledResult<{ body: any }> | undefined;
      expect(statuses, `round ${round}: ${JSON.stringify(firstError?.value.body)}`).toEqual([200, 200, 200, 200]);
      const inputs = [TEXTS, TEXTS.slice(1), TEXTS.slice(0, 2), [TEXTS[4]!]];
      for (const [i, result] of results.entries()) {
        const body = (result as PromiseFulfilledResult<{ body: unknown }>).value.body;
        // Batches mix requests here, so int8's per-run activation scales differ from a lone run: >= 0.99, not 0.9999.
        expect(compare(body, await nodeInt8(inputs[i]!)).minCosine).toBeGreaterThanOrEqual(0.99);
      }
    }
  });

  it('a shard Worker that is not running is a 503 naming the shard', async () => {
    const response = await orphan.postJson('/v1/embeddings', { input: ['你好'] });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('30');
    expect(response.body.error.code).toBe('shard_unavailable');
    expect(response.body.error.message).toContain(`shard 2 of 2 (r2://MODELS/${PREFIX}model.int8.shard2of2.ort, binding SHARD_2)`);
    expect(response.body.error.message).not.toMatch(/\n\s+at /);

    // /ready says so before any request has to find out.
    const ready = await orphan.get('/ready');
    expect(ready.status, JSON.stringify(ready.body)).toBe(503);
    expect(ready.body.error.code).toBe('model_not_ready');
    expect(ready.body.error.message).toContain(`shard 2 of 2 (r2://MODELS/${PREFIX}model.int8.shard2of2.ort, binding SHARD_2)`);
  });
});
