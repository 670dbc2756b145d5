/**
 * Issue 14 at the edge, in-process (no workerd): the Worker's app is the same app, so over-long
 * lists are refused against MAX_INPUTS before the body is parsed, /health says only its status
 * with keys configured, a trailing slash is a 404; and its body limit is sized for a 128 MB isolate.
 */
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../worker/config.js';
import { createEdgeApp } from '../../worker/edge-app.js';
import type { AiBinding, WorkerEnv } from '../../worker/env.js';
import { fakeAiVector } from './fake-ai.js';

// worker/isolate-model.ts imports the .wasm module wrangler compiles at deploy time; Node cannot
// import a .wasm file, so the test hands it the same module compiled from the same file.
vi.mock('onnxruntime-web/ort-wasm-simd-threaded.wasm', async () => {
  const require = createRequire(import.meta.url);
  const { readFile: read } = await import('node:fs/promises');
  return { default: await WebAssembly.compile(await read(require.resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm'))) };
});

const BGE = '@cf/baai/bge-small-en-v1.5';
const KEY = 'edge-key';

const ai = {
  run: async (_model: string, { text }: { text: string[] }) => ({ shape: [text.length, 384], data: text.map((t) => fakeAiVector(t, 384)) }),
} as unknown as AiBinding;

const config = parseConfig({ MODELS: {} as WorkerEnv['MODELS'], AI: ai, MODEL_ID: '', WORKERS_AI_MODELS: BGE, API_KEYS: KEY });
const app = createEdgeApp({ config, ai, wasmMemoryBytes: () => 123_456, log: () => {} });
const executionCtx = { waitUntil: () => {}, passThroughOnException: () => {}, props: {} };

const request = (path: string, init: RequestInit = {}) => app.request(path, init, {}, executionCtx as never);
const post = (body: string) =>
  request('/v1/embeddings', { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body });

afterEach(() => {
  vi.restoreAllMocks();
});

describe('the Worker app (issue 14)', () => {
  it('MAX_BODY_BYTES defaults to 1 MiB, sized for a 128 MB isolate', () => {
    expect(config.maxBodyBytes).toBe(1024 * 1024);
    expect(config.maxInputs).toBe(64);
  });

  it('refuses a list over MAX_INPUTS (64) before the body is parsed', async () => {
    const body = `{"input":[${new Array(300_000).fill('[]').join(',')}]}`;
    expect(body.length).toBeLessThan(config.maxBodyBytes);
    const parse = vi.spyOn(JSON, 'parse');
    const res = await post(body);
    const parsedBody = parse.mock.calls.some(([text]) => typeof text === 'string' && text.length >= body.length);
    parse.mockRestore();
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/^input has more than 64 items; at most 64 are allowed per request/);
    expect(parsedBody).toBe(false);
  });

  it('still embeds within the limits', async () => {
    const res = await post(JSON.stringify({ input: ['a', 'b'] }));
    expect(res.status, await res.clone().text()).toBe(200);
    expect(((await res.json()) as { data: unknown[] }).data).toHaveLength(2);
  });

  it('/health and /ready say only their status without a key when keys are configured', async () => {
    const health = await request('/health');
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const ready = await request('/ready');
    const text = await ready.text();
    expect(text).not.toContain(BGE);
    expect(text).not.toMatch(/wasm|memory|budget/i);
  });

  it('GET /v1/models/ (trailing slash) is a 404, not a 405', async () => {
    const res = await request('/v1/models/', { headers: { authorization: `Bearer ${KEY}` } });
    expect(res.status).toBe(404);
  });
});
