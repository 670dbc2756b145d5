/**
 * A rerank model (the tiny-ranker cross-encoder) in R2, served by the Worker's app in-process
 * (plain Node, no workerd): createEdgeApp over an in-memory R2 bucket, the isolate's
 * onnxruntime-web session (the same compiled .wasm module wrangler bundles). /v1/text-ranking and
 * /v2/rerank give the fixture's scores; /v1/models says `rerank`; embeddings are a 400 naming the
 * kind. Origins for rankers: test/worker/edge-ranker-origin.int.test.ts.
 */
import { readFile, readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { R2Bucket } from '@cloudflare/workers-types';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../worker/config.js';
import { createEdgeApp } from '../../worker/edge-app.js';
import type { WorkerEnv } from '../../worker/env.js';
import { IsolateModel } from '../../worker/isolate-model.js';
import { convertedRanker, RANK_SCORE_ABS_TOL, RANKER_CASES } from '../helpers/ranker-fixture.js';

vi.mock('onnxruntime-web/ort-wasm-simd-threaded.wasm', async () => {
  const require = createRequire(import.meta.url);
  const { readFile: read } = await import('node:fs/promises');
  return { default: await WebAssembly.compile(await read(require.resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm'))) };
});

class MemoryBucket {
  readonly objects = new Map<string, Uint8Array>();
  async get(key: string) {
    const bytes = this.objects.get(key);
    if (!bytes) return null;
    return { text: async () => new TextDecoder().decode(bytes), arrayBuffer: async () => bytes.slice().buffer };
  }
}

const bucket = new MemoryBucket();

beforeAll(async () => {
  const dir = await convertedRanker('fp32');
  for (const file of await readdir(dir)) {
    if (['corom.json', 'model.fp32.onnx', 'vocab.txt'].includes(file)) bucket.objects.set(`models/tiny-ranker/${file}`, new Uint8Array(await readFile(join(dir, file))));
  }
});

function startEdge(vars: WorkerEnv = {}) {
  const logs: string[] = [];
  const env: WorkerEnv = { MODELS: bucket as unknown as R2Bucket, MODEL_ID: 'tiny-ranker', MODEL_DTYPE: 'fp32', ...vars };
  const config = parseConfig(env);
  const app = createEdgeApp({
    config,
    model: new IsolateModel(env.MODELS!, config.model!, config.memoryBudgetBytes),
    wasmMemoryBytes: () => undefined,
    log: (line) => logs.push(line),
  });
  const ctx = { waitUntil: () => {}, passThroughOnException: () => {}, props: {} };
  return {
    logs,
    async request(path: string, body?: unknown) {
      const response = await app.fetch(
        new Request(`http://edge.test${path}`, {
          method: body === undefined ? 'GET' : 'POST',
          headers: body === undefined ? {} : { 'content-type': 'application/json' },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        }),
        {},
        ctx,
      );
      return { status: response.status, headers: response.headers, body: (await response.json()) as any };
    },
  };
}

describe('a rerank model in R2, served in the isolate', () => {
  const edge = startEdge();

  it('/v1/text-ranking gives the fixture scores for every case (onnxruntime-web in the isolate)', async () => {
    for (const c of RANKER_CASES) {
      const answer = await edge.request('/v1/text-ranking', { input: { source_sentence: c.source_sentence, sentences_to_compare: c.sentences_to_compare } });
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      expect(answer.headers.get('x-corom-backend')).toBe('wasm');
      answer.body.scores.forEach((s: number, i: number) => expect(Math.abs(s - c.scores[i]!)).toBeLessThan(RANK_SCORE_ABS_TOL));
    }
  });

  it('/v2/rerank ranks with the cross-encoder, Cohere id and meta included', async () => {
    const c = RANKER_CASES[0]!;
    const answer = await edge.request('/v2/rerank', { model: 'tiny-ranker', query: c.source_sentence[0], documents: c.sentences_to_compare, top_n: 1 });
    expect(answer.status).toBe(200);
    const best = c.scores.indexOf(Math.max(...c.scores));
    expect(answer.body.results).toHaveLength(1);
    expect(answer.body.results[0].index).toBe(best);
    expect(Math.abs(answer.body.results[0].relevance_score - c.scores[best]!)).toBeLessThan(RANK_SCORE_ABS_TOL);
    expect(answer.body.meta.api_version.version).toBe('2');
    expect(answer.body.id).toBe(answer.headers.get('x-request-id'));
  });

  it('/v1/models says rerank; embeddings are a 400 naming the kind', async () => {
    const models = await edge.request('/v1/models');
    expect(models.body.data.map((m: { id: string; kind: string }) => [m.id, m.kind])).toEqual([['tiny-ranker', 'rerank']]);
    const wrong = await edge.request('/v1/embeddings', { input: 'a' });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.code).toBe('wrong_model_task');
    expect(wrong.body.error.message).toContain("model 'tiny-ranker' serves rerank, not embedding");
  });
});
