/**
 * The workerd adapter's mechanics, checked under Node where they are cheap to observe: the
 * precompiled module is what gets instantiated, WebAssembly.instantiate is restored afterwards,
 * and an unverified onnxruntime-web version is refused. (That it works inside workerd itself is
 * ort-web-workerd.test.ts.)
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import * as ort from 'onnxruntime-web/wasm';
import { describe, expect, it } from 'vitest';

import { CoromError } from '../../src/errors.js';
import { ORT_WEB_WASM_FILE, ortWebForWorkerd, type OrtWeb } from '../../src/runtime/ort-web-workerd.js';
import { referenceEmbedding, tinyEmbeddingModel, tinyWeights } from './tiny-embedding-model.js';

const require = createRequire(import.meta.url);

describe('ortWebForWorkerd', () => {
  it('refuses an onnxruntime-web version it was not verified with', () => {
    const other = { env: { versions: { common: '1.29.0', web: '1.29.0' }, wasm: {} } } as unknown as OrtWeb;
    expect(() => ortWebForWorkerd(other, {} as WebAssembly.Module)).toThrow(CoromError);
    expect(() => ortWebForWorkerd(other, {} as WebAssembly.Module)).toThrow(/1\.29\.0 is not supported in workerd/);
  });

  it('instantiates ORT from the given compiled module and puts WebAssembly.instantiate back', async () => {
    const wasmPath = require.resolve(`onnxruntime-web/${ORT_WEB_WASM_FILE}`);
    const compiled = await WebAssembly.compile(await readFile(wasmPath));
    const instantiate = WebAssembly.instantiate;
    let calls = 0;
    // Counts calls reaching WebAssembly.instantiate from outside the adapter: ORT's call with the
    // marker bytes must be answered by the adapter (which instantiates the compiled module itself).
    WebAssembly.instantiate = ((...args: Parameters<typeof instantiate>) => {
      calls++;
      return (instantiate as (...a: unknown[]) => unknown).apply(WebAssembly, args);
    }) as typeof instantiate;
    const counting = WebAssembly.instantiate;
    try {
      const runtime = ortWebForWorkerd(ort, compiled);
      expect(ortWebForWorkerd(ort, compiled)).toBe(runtime);
      expect(() => ortWebForWorkerd(ort, {} as WebAssembly.Module)).toThrow(/another module/);
      expect(runtime.wasmMemoryBytes()).toBeUndefined();

      const weights = tinyWeights(64);
      const session = await runtime.createSession(tinyEmbeddingModel(weights));
      expect(WebAssembly.instantiate).toBe(counting);
      expect(calls).toBe(0);
      expect(ort.env.wasm.numThreads).toBe(1);
      expect(ort.env.wasm.proxy).toBe(false);

      const ids = [1, 5, 9, 2];
      const dims = [1, ids.length];
      const int64 = (values: number[]) => new ort.Tensor('int64', BigInt64Array.from(values.map(BigInt)), dims);
      const result = await session.run({ input_ids: int64(ids), attention_mask: int64([1, 1, 1, 1]), token_type_ids: int64([0, 0, 0, 0]) });
      const output = Array.from(result.sentence_embedding!.data as Float32Array);
      const reference = referenceEmbedding(weights, ids);
      expect(Math.max(...output.map((v, i) => Math.abs(v - reference[i])))).toBeLessThan(1e-4);
      expect(runtime.wasmMemoryBytes()).toBeGreaterThanOrEqual(16 * 1024 * 1024);

      // Later sessions reuse the initialized runtime and do not instantiate anything.
      await (await runtime.createSession(tinyEmbeddingModel(weights))).release();
      expect(calls).toBe(0);
      await session.release();
    } finally {
      WebAssembly.instantiate = instantiate;
    }
  });
});
