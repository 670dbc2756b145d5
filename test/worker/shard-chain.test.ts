/**
 * The layer-shard path of the Worker in-process (Node, no sockets): the tiny fixture converted to
 * 2 int8 shards in ORT format, an in-memory R2 bucket, two shard Workers (worker/shard-worker.ts,
 * the real handler with onnxruntime-web and the low-memory loader) called through stand-in service
 * bindings that hand the Request straight to their fetch, and the front Worker's app
 * (createEdgeApp with a ShardChainModel). The same composition runs in real workerd in
 * edge-shards.int.test.ts; here the chain logic and its errors are checked quickly.
 */
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { R2Bucket } from '@cloudflare/workers-types';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import type { Engine } from '../../src/engine/engine.js';
import { loadEngine } from '../../src/engine/load.js';
import { lengthBuckets } from '../../src/runtime/length-buckets.js';
import { padBatch } from '../../src/runtime/length-buckets.js';
import { decodeWire, encodeEmbeddings, encodeHiddenState, encodeTokens, peekWire, ShardWireError, WIRE_HEADER_BYTES } from '../../src/runtime/shard-wire.js';
import { convertCheckpoint } from '../../src/store/convert.js';
import type { ConvertedMetadata } from '../../src/store/metadata.js';
import { convertShards } from '../../src/store/shards.js';
import { parseConfig, parseShardWorkerConfig } from '../../worker/config.js';
import { createEdgeApp } from '../../worker/edge-app.js';
import type { WorkerEnv } from '../../worker/env.js';
import { OriginPool } from '../../worker/origins.js';
import { ShardChainModel, type ShardBindings, type ShardReadinessOptions } from '../../worker/shard-chain.js';
import { createShardWorker, type ShardWorkerEnv } from '../../worker/shard-worker.js';
import { cosine, FIXTURE_DIR, maxAbsDiff } from '../helpers/fixture.js';

vi.mock('onnxruntime-web/ort-wasm-simd-threaded.wasm', async () => {
  const require = createRequire(import.meta.url);
  const { readFile: read } = await import('node:fs/promises');
  return { default: await WebAssembly.compile(await read(require.resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm'))) };
});

const PREFIX = 'models/tiny-shards/';
const CAP_ROWS = 2;
const TEXTS = ['今天天气怎么样', '北京是中国的首都', '测'.repeat(200), '吃完海鲜可以喝牛奶吗?', '你好'];

/** An R2 bucket over a Map, with the body stream a shard Worker reads its file from. */
class MemoryBucket {
  readonly objects = new Map<string, Uint8Array>();
  async head(key: string) {
    const bytes = this.objects.get(key);
    return bytes ? { size: bytes.byteLength } : null;
  }
  async get(key: string) {
    const bytes = this.objects.get(key);
    if (!bytes) return null;
    return {
      size: bytes.byteLength,
      text: async () => new TextDecoder().decode(bytes),
      arrayBuffer: async () => bytes.slice().buffer,
      // Chunks of 64 KiB, as a stream delivers them.
      body: new ReadableStream<Uint8Array>({
        start(controller) {
          for (let o = 0; o < bytes.length; o += 65536) controller.enqueue(bytes.slice(o, o + 65536));
          controller.close();
        },
      }),
    };
  }
}

const ctx = { waitUntil: () => {}, passThroughOnException: () => {}, props: {} };

let dir: string;
let meta: ConvertedMetadata;
let engine: Engine;

function filledBucket(skip: string[] = []): MemoryBucket {
  const bucket = new MemoryBucket();
  for (const [key, bytes] of files) if (!skip.some((s) => key.endsWith(s))) bucket.objects.set(key, bytes);
  return bucket;
}
let files: Map<string, Uint8Array>;

/** A shard Worker behind a stand-in service binding: the binding's fetch is the Worker's fetch. */
function shardBinding(bucket: MemoryBucket, index: number, vars: Partial<ShardWorkerEnv> = {}) {
  const worker = createShardWorker();
  const env: ShardWorkerEnv = { MODELS: bucket as unknown as R2Bucket, MODEL_ID: 'tiny-shards', MODEL_PREFIX: PREFIX, MODEL_SHARDS: 'int8', SHARD_INDEX: String(index), ...vars };
  let calls = 0;
  return {
    get calls() {
      return calls;
    },
    fetch: (input: string, init?: RequestInit) => {
      calls++;
      return worker.fetch(new Request(input, init), env, ctx);
    },
    health: async () => (await worker.fetch(new Request('https://shard/health'), env, ctx)).json() as Promise<any>,
  };
}

/** The stand-ins as the Worker's env has its service bindings (workers-types' Fetcher). */
type StandIn = Pick<ReturnType<typeof shardBinding>, 'fetch'>;
function front(bucket: MemoryBucket, standIns: Record<string, StandIn>, vars: Partial<WorkerEnv> = {}, readiness: ShardReadinessOptions = {}) {
  const bindings = standIns as unknown as ShardBindings;
  const env: WorkerEnv = { MODELS: bucket as unknown as R2Bucket, MODEL_ID: 'tiny-shards', MODEL_PREFIX: PREFIX, MODEL_SHARDS: 'int8', ...vars };
  const config = parseConfig(env);
  const model = new ShardChainModel(bucket as unknown as R2Bucket, { ...config.model!, shards: 'int8' }, config.memoryBudgetBytes, bindings, readiness);
  const origins = config.origins.urls.length > 0 ? new OriginPool(config.origins) : undefined;
  const app = createEdgeApp({ config, model, ...(origins ? { origins } : {}), wasmMemoryBytes: () => undefined, log: () => {} });
  return {
    model,
    ready: async () => {
      const response = await app.fetch(new Request('http://edge.test/ready'), {}, ctx);
      return { status: response.status, body: (await response.json()) as any };
    },
    post: async (path: string, body: unknown) => {
      const response = await app.fetch(new Request(`http://edge.test${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }), {}, ctx);
      return { status: response.status, headers: response.headers, body: (await response.json()) as any };
    },
  };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'corom-shard-chain-'));
  await convertCheckpoint(FIXTURE_DIR, dir, { dtype: 'int8' });
  await convertShards(FIXTURE_DIR, dir, { dtype: 'int8', shards: 2, ortFormat: true });
  meta = JSON.parse(await readFile(join(dir, 'corom.json'), 'utf8')) as ConvertedMetadata;
  // A recorded cap, as scripts/edge-memory.ts --record writes it: runs of at most 2 x 128 tokens.
  meta.shards!.int8!.batchCap = { rows: CAP_ROWS, maxLength: meta.maxLength };
  await writeFile(join(dir, 'corom.json'), JSON.stringify(meta));
  files = new Map();
  for (const file of await readdir(dir)) files.set(`${PREFIX}${file}`, new Uint8Array(await readFile(join(dir, file))));
  engine = await loadEngine({ model: dir, dtype: 'int8', backend: 'node', threads: 1 });
}, 60_000);

afterAll(async () => {
  await engine?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('shard wire format', () => {
  it('round-trips a token batch, a hidden state and embeddings, floats viewed in place', () => {
    const tokens = padBatch([Int32Array.from([101, 872, 102]), Int32Array.from([101, 102])]);
    const decodedTokens = decodeWire(encodeTokens(tokens));
    expect(decodedTokens).toEqual({ kind: 'tokens', tokens });

    const state = Float32Array.from({ length: 2 * 3 * 4 }, (_, i) => i / 7 - 1);
    const hidden = { rows: 2, width: 3, hidden: 4, state, mask: tokens.mask };
    const bytes = encodeHiddenState(hidden);
    expect(bytes.byteLength).toBe(WIRE_HEADER_BYTES + 4 * state.length + 6);
    const decoded = decodeWire(bytes);
    if (decoded.kind !== 'hidden') throw new Error('wrong kind');
    expect(Array.from(decoded.hiddenState.state)).toEqual(Array.from(state));
    expect(decoded.hiddenState.state.buffer).toBe(bytes.buffer);
    expect(decoded.hiddenState.mask).toEqual(tokens.mask);

    const vectors = [Float32Array.from([1, 2, 3]), Float32Array.from([-1, 0.5, 0])];
    const e = decodeWire(encodeEmbeddings(vectors, 3));
    expect(e.kind === 'embeddings' && Array.from(e.data)).toEqual([1, 2, 3, -1, 0.5, 0]);
  });

  it('refuses what is not a shard message, a wrong length and a wrong shape', () => {
    const ok = encodeEmbeddings([Float32Array.from([1, 2])], 2);
    expect(() => peekWire(new Uint8Array(8))).toThrow(ShardWireError);
    expect(() => peekWire(Uint8Array.from([...ok.slice(0, 4).reverse(), ...ok.subarray(4)]))).toThrow(/magic/);
    expect(() => peekWire(ok.subarray(0, ok.length - 1))).toThrow(/has 28 bytes, got 27/);
    const badKind = ok.slice();
    badKind[4] = 9;
    expect(() => peekWire(badKind)).toThrow(/unknown shard message kind 9/);
    const badShape = ok.slice();
    new DataView(badShape.buffer).setUint32(12, 5, true);
    expect(() => peekWire(badShape)).toThrow(/cannot have shape/);
  });
});

describe('the front Worker relays runs through the shard Workers', () => {
  it('answers with the Node int8 vectors, batch by batch at the cap, labelled wasm-shards:2', async () => {
    const bucket = filledBucket();
    const one = shardBinding(bucket, 1);
    const two = shardBinding(bucket, 2);
    const edge = front(bucket, { SHARD_1: one, SHARD_2: two });
    const response = await edge.post('/v1/embeddings', { input: TEXTS, normalize: false });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(response.headers.get('x-corom-backend')).toBe('wasm-shards:2');

    // 5 texts at a cap of 2 rows: 3 runs, each through both shards.
    const ids = engine.tokenize(TEXTS);
    const buckets = lengthBuckets(ids.map((s) => s.length), { maxBatchSize: CAP_ROWS, maxBatchTokens: CAP_ROWS * meta.maxLength });
    expect(buckets).toHaveLength(3);
    expect(one.calls).toBe(3);
    expect(two.calls).toBe(3);

    // The same runs on onnxruntime-node's int8 (int8 activations are quantized per run).
    const expected = new Array<Float32Array>(TEXTS.length);
    for (const b of buckets) (await engine.embedTokens(b.map((i) => ids[i]!))).forEach((v, row) => (expected[b[row]!] = v));
    let worst = 1;
    let worstAbs = 0;
    response.body.data.forEach((d: { embedding: number[] }, i: number) => {
      worst = Math.min(worst, cosine(d.embedding, expected[i]!));
      worstAbs = Math.max(worstAbs, maxAbsDiff(d.embedding, expected[i]!));
    });
    expect(worst).toBeGreaterThanOrEqual(0.9999);
    expect(worstAbs).toBeLessThan(1e-2);

    const health = await one.health();
    expect(health).toMatchObject({ shard: 1, of: 2, loaded: true, emscriptenModule: true, runs: 3, batchLimits: { maxBatchSize: 2, maxBatchTokens: 256 } });
    expect(edge.model.status()).toMatchObject({ shards: 2, loaded: true, runs: 3 });
  });

  it('a missing binding is a 503 naming the shard, its R2 key and the binding', async () => {
    const bucket = filledBucket();
    const edge = front(bucket, { SHARD_1: shardBinding(bucket, 1) });
    const response = await edge.post('/v1/embeddings', { input: ['你好'] });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('30');
    expect(response.body.error.code).toBe('shard_unavailable');
    expect(response.body.error.message).toContain('shard 2 of 2 (r2://MODELS/models/tiny-shards/model.int8.shard2of2.ort, binding SHARD_2)');
    expect(response.body.error.message).toContain('no service binding SHARD_2');
  });

  it('a shard file missing from R2 is a 503 naming the shard and the key', async () => {
    const bucket = filledBucket(['model.int8.shard2of2.ort']);
    const edge = front(bucket, { SHARD_1: shardBinding(bucket, 1), SHARD_2: shardBinding(bucket, 2) });
    const response = await edge.post('/v1/embeddings', { input: ['你好'] });
    expect(response.status).toBe(503);
    expect(response.body.error.code).toBe('shard_unavailable');
    expect(response.body.error.message).toContain('shard 2 of 2 (r2://MODELS/models/tiny-shards/model.int8.shard2of2.ort, binding SHARD_2) failed (HTTP 503)');
    expect(response.body.error.message).toContain('r2://MODELS/models/tiny-shards/model.int8.shard2of2.ort: not found');
  });

  it('a binding to the wrong shard is refused, not computed', async () => {
    const bucket = filledBucket();
    const edge = front(bucket, { SHARD_1: shardBinding(bucket, 1), SHARD_2: shardBinding(bucket, 1) });
    const response = await edge.post('/v1/embeddings', { input: ['你好'] });
    expect(response.status).toBe(503);
    expect(response.body.error.message).toMatch(/HTTP 409\): this Worker runs shard 1\/2 .* but was asked for shard 2\/2/);
  });

  it('checks every shard against MEMORY_BUDGET_MB (each is its own isolate) and names the one over it', async () => {
    const bucket = filledBucket();
    const measured = structuredClone(meta);
    const [first, second] = measured.shards!.int8!.shards;
    first!.edge = { peakBytes: 40e6, wasmBytes: 38e6, jsBytes: 2e6, batchRows: 2, maxLength: 128, reserveBytes: 38e6 };
    second!.edge = { peakBytes: 60e6, wasmBytes: 58e6, jsBytes: 2e6, batchRows: 2, maxLength: 128, reserveBytes: 58e6 };
    bucket.objects.set(`${PREFIX}corom.json`, new TextEncoder().encode(JSON.stringify(measured)));
    const edge = front(bucket, { SHARD_1: shardBinding(bucket, 1), SHARD_2: shardBinding(bucket, 2) }, { MEMORY_BUDGET_MB: '50' });
    const response = await edge.post('/v1/embeddings', { input: ['你好'] });
    expect(response.status).toBe(503);
    expect(response.body.error.code).toBe('model_over_memory_budget');
    expect(response.body.error.message).toContain('shard 2 of 2 (model.int8.shard2of2.ort) needs about 60.0 MB at peak');
    expect(response.body.error.message).not.toContain('shard 1 of 2');
  });

  it('a shard Worker refuses a batch over the cap and bad input with clear errors', async () => {
    const bucket = filledBucket();
    const one = shardBinding(bucket, 1);
    const headers = { 'x-corom-shard': '1/2', 'x-corom-shard-file': 'model.int8.shard1of2.ort' };
    const over = await one.fetch('https://shard/run', { method: 'POST', headers, body: encodeTokens(padBatch([1, 2, 3].map(() => Int32Array.from([101, 102])))) });
    expect(over.status).toBe(413);
    expect(((await over.json()) as any).error.message).toMatch(/a batch of 3 x 2 tokens is over shard 1 of 2 .* recorded batch cap of 2 x 128 tokens/);
    // A body declared past the largest message at the cap (2 x 128 tokens of 32 floats) is not read.
    const largest = WIRE_HEADER_BYTES + 2 * 128 * (4 * 32 + 1);
    const huge = await one.fetch('https://shard/run', { method: 'POST', headers: { ...headers, 'content-length': String(largest + 1) }, body: new Uint8Array(largest + 1) });
    expect(huge.status).toBe(413);
    expect(((await huge.json()) as any).error.message).toBe(`a shard message of ${largest + 1} bytes is over shard 1 of 2 (r2://MODELS/${PREFIX}model.int8.shard1of2.ort)'s largest input at its cap (${largest} bytes); split it into smaller runs`);
    const garbage = await one.fetch('https://shard/run', { method: 'POST', headers, body: new Uint8Array(30) });
    expect(garbage.status).toBe(400);
    const hiddenToFirst = await one.fetch('https://shard/run', { method: 'POST', headers, body: encodeHiddenState({ rows: 1, width: 1, hidden: 32, state: new Float32Array(32), mask: new BigInt64Array([1n]) }) });
    expect(hiddenToFirst.status).toBe(400);
    expect(((await hiddenToFirst.json()) as any).error.message).toContain('takes token ids, not a hidden state');
  });

  it('the shard Worker configuration is checked', () => {
    expect(() => parseShardWorkerConfig({ MODEL_SHARDS: 'int8' }, true)).toThrow(/SHARD_INDEX must be set/);
    expect(() => parseShardWorkerConfig({ MODEL_SHARDS: 'int4', SHARD_INDEX: '1' }, true)).toThrow(/MODEL_SHARDS must be one of/);
    expect(() => parseShardWorkerConfig({ MODEL_SHARDS: 'int8', SHARD_INDEX: '1' }, false)).toThrow(/no MODELS binding/);
    expect(parseShardWorkerConfig({ MODEL_ID: 'm', MODEL_SHARDS: 'int8', SHARD_INDEX: '2' }, true)).toEqual({ prefix: 'models/m/', dtype: 'int8', index: 1 });
    expect(() => parseConfig({ MODELS: {} as R2Bucket, MODEL_SHARDS: 'int7' })).toThrow(/MODEL_SHARDS must be empty/);
  });
});

/** A binding whose Worker answers every request with `answer` (a platform error, a crash, a hang). */
function brokenBinding(answer: () => Promise<Response>) {
  let calls = 0;
  return {
    get calls() {
      return calls;
    },
    fetch: () => {
      calls++;
      return answer();
    },
  };
}

describe("the front Worker's /ready asks the shard Workers", () => {
  const SHARD_2 = `shard 2 of 2 (r2://MODELS/${PREFIX}model.int8.shard2of2.ort, binding SHARD_2)`;

  it('is 200 when every shard Worker answers, and trusts that answer for the ttl', async () => {
    const bucket = filledBucket();
    const [one, two] = [shardBinding(bucket, 1), shardBinding(bucket, 2)];
    let clock = 1_000_000;
    const edge = front(bucket, { SHARD_1: one, SHARD_2: two }, {}, { ttlMs: 5000, now: () => clock });
    const ready = await edge.ready();
    expect(ready.status, JSON.stringify(ready.body)).toBe(200);
    expect(ready.body).toEqual({ status: 'ready', models: ['tiny-shards'] });
    expect([one.calls, two.calls]).toEqual([1, 1]);
    // Nothing was loaded to answer it: /ready checks, runs load.
    expect((await two.health()).loaded).toBe(false);

    clock += 4999;
    expect((await edge.ready()).status).toBe(200);
    expect([one.calls, two.calls]).toEqual([1, 1]);
    clock += 1;
    expect((await edge.ready()).status).toBe(200);
    expect([one.calls, two.calls]).toEqual([2, 2]);
  });

  it('a missing binding is a 503 naming the shard and SHARD_2, without calling any shard', async () => {
    const bucket = filledBucket();
    const one = shardBinding(bucket, 1);
    const edge = front(bucket, { SHARD_1: one });
    const ready = await edge.ready();
    expect(ready.status).toBe(503);
    expect(ready.body.error.code).toBe('model_not_ready');
    expect(ready.body.error.message).toContain(`${SHARD_2} is not reachable: this Worker has no service binding SHARD_2`);
    expect(ready.body.error.message).not.toContain('shard 1 of 2');
    expect(one.calls).toBe(0);
  });

  it('a shard Worker whose file is missing from R2 is a 503 naming the shard and the key; seen again once it is uploaded', async () => {
    const bucket = filledBucket(['model.int8.shard2of2.ort']);
    let clock = 0;
    const edge = front(bucket, { SHARD_1: shardBinding(bucket, 1), SHARD_2: shardBinding(bucket, 2) }, {}, { now: () => clock });
    const ready = await edge.ready();
    expect(ready.status).toBe(503);
    expect(ready.body.error.message).toContain(`${SHARD_2} answered GET /ready with HTTP 503: shard 2 of 2 (r2://MODELS/${PREFIX}model.int8.shard2of2.ort) cannot be loaded`);
    expect(ready.body.error.message).toContain(`r2://MODELS/${PREFIX}model.int8.shard2of2.ort: not found in the MODELS bucket`);
    // A bad answer is not kept: the upload is seen on the next poll, with no time passing.
    bucket.objects.set(`${PREFIX}model.int8.shard2of2.ort`, files.get(`${PREFIX}model.int8.shard2of2.ort`)!);
    expect((await edge.ready()).status).toBe(200);
  });

  it('a shard Worker that fails, crashes or does not answer in time is a 503 naming it', async () => {
    const bucket = filledBucket();
    const one = shardBinding(bucket, 1);
    const platformError = brokenBinding(async () => new Response('Worker "corom-edge-shard2" not found', { status: 503 }));
    let edge = front(bucket, { SHARD_1: one, SHARD_2: platformError });
    let ready = await edge.ready();
    expect(ready.status).toBe(503);
    expect(ready.body.error.message).toBe(`Not ready: ${SHARD_2} answered GET /ready with HTTP 503: Worker "corom-edge-shard2" not found`);

    edge = front(bucket, { SHARD_1: one, SHARD_2: brokenBinding(() => Promise.reject(new Error('Network connection lost.\n    at internal'))) });
    ready = await edge.ready();
    expect(ready.status).toBe(503);
    expect(ready.body.error.message).toBe(`Not ready: ${SHARD_2} did not answer GET /ready: Network connection lost.`);

    const hung = brokenBinding(() => new Promise<Response>(() => {}));
    edge = front(bucket, { SHARD_1: one, SHARD_2: hung }, {}, { timeoutMs: 30 });
    ready = await edge.ready();
    expect(ready.status).toBe(503);
    expect(ready.body.error.message).toBe(`Not ready: ${SHARD_2} did not answer GET /ready within 30 ms`);
    expect(hung.calls).toBe(1);
  });

  it('a binding to the wrong shard Worker is a 503, not a 200', async () => {
    const bucket = filledBucket();
    const edge = front(bucket, { SHARD_1: shardBinding(bucket, 1), SHARD_2: shardBinding(bucket, 1) });
    const ready = await edge.ready();
    expect(ready.status).toBe(503);
    expect(ready.body.error.message).toMatch(/shard 2 of 2 .*binding SHARD_2\) answered GET \/ready with HTTP 409: this Worker runs shard 1\/2 .* but was asked for shard 2\/2/);
  });

  it('is 200 despite a dead shard when an origin serves the model, and says so when none does', async () => {
    const bucket = filledBucket();
    // A stand-in origin on the global fetch: what `corom serve` answers to /ready and /v1/models.
    let serving = true;
    const originFetch = vi.spyOn(globalThis, 'fetch').mockImplementation(async (input) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      if (url.origin !== 'http://origin.test') throw new Error(`unexpected fetch ${url}`);
      if (!serving) return Response.json({ error: { message: 'Not ready', code: 'model_not_ready' } }, { status: 503 });
      if (url.pathname === '/ready') return Response.json({ status: 'ready' });
      if (url.pathname === '/v1/models') return Response.json({ object: 'list', data: [{ id: 'tiny-shards', object: 'model', dimensions: meta.hidden }] });
      return new Response('not found', { status: 404 });
    });
    try {
      const dead = brokenBinding(async () => new Response('gone', { status: 503 }));
      const edge = front(bucket, { SHARD_1: shardBinding(bucket, 1), SHARD_2: dead }, { ORIGINS: 'http://origin.test', ORIGIN_HEALTH_MS: '0' });
      const ready = await edge.ready();
      expect(ready.status, JSON.stringify(ready.body)).toBe(200);
      expect(originFetch).toHaveBeenCalled();

      serving = false;
      const notReady = await edge.ready();
      expect(notReady.status).toBe(503);
      expect(notReady.body.error.message).toBe(`Not ready: ${SHARD_2} answered GET /ready with HTTP 503: gone; and no origin serves it right now`);
    } finally {
      originFetch.mockRestore();
    }
  });

  it('with API keys configured says only its status', async () => {
    const bucket = filledBucket();
    const edge = front(bucket, { SHARD_1: shardBinding(bucket, 1) }, { API_KEYS: 'k1' });
    const ready = await edge.ready();
    expect(ready.status).toBe(503);
    expect(ready.body.error).toMatchObject({ message: 'Not ready', code: 'model_not_ready' });
    expect(JSON.stringify(ready.body)).not.toMatch(/shard|SHARD|r2:/);
  });

  it('a shard Worker answers GET /ready itself: 200 with what it runs, 409 for the wrong shard, no load', async () => {
    const bucket = filledBucket();
    const two = shardBinding(bucket, 2);
    const ok = await two.fetch('https://shard/ready', { headers: { 'x-corom-shard': '2/2', 'x-corom-shard-file': 'model.int8.shard2of2.ort' } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ status: 'ready', shard: 2, of: 2, loaded: false });
    const wrong = await two.fetch('https://shard/ready', { headers: { 'x-corom-shard': '1/2', 'x-corom-shard-file': 'model.int8.shard1of2.ort' } });
    expect(wrong.status).toBe(409);
    expect(((await wrong.json()) as any).error.code).toBe('shard_mismatch');
    expect((await two.health()).loaded).toBe(false);
  });
});
