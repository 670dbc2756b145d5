/**
 * Inference must not block the event loop (src/runtime/ort-node-thread.ts): onnxruntime-node
 * computes on the calling thread, so a server running it there answers nothing -- no /health, no
 * 429 -- while a batch runs (17.5 s per 64 x 128 batch for BERT-base int8 on one core).
 */
import { cpSync, mkdtempSync, rmSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureModel, removeFixtureModel } from '../../scripts/reliability/serve-child.js';
import type { Engine } from '../../src/engine/engine.js';
import { loadEngine } from '../../src/engine/load.js';

afterAll(removeFixtureModel);

/** Ticks of a 1 ms interval timer that fired while `work` ran. */
async function ticksDuring(work: () => Promise<unknown>): Promise<{ ticks: number; ms: number }> {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  const started = performance.now();
  await work();
  const ms = performance.now() - started;
  clearInterval(timer);
  return { ticks, ms };
}

describe('inference off the event loop (loadEngine({ thread: true }))', () => {
  let threaded: Engine;
  let inline: Engine;
  let batch: Int32Array[];
  beforeAll(async () => {
    const model = await fixtureModel();
    threaded = await loadEngine({ model, dtype: 'fp32', threads: 1, thread: true });
    inline = await loadEngine({ model, dtype: 'fp32', threads: 1 });
    // One 64 x 128 run, the largest the embedder makes: long enough to see the loop stall.
    batch = threaded.tokenize(Array.from({ length: 64 }, (_, i) => `${'吃完海鲜可以喝牛奶吗'.repeat(14)}${i}`));
    await threaded.embedTokens(batch);
    await inline.embedTokens(batch);
  });
  afterAll(async () => {
    await threaded?.close();
    await inline?.close();
  });

  it('gives the same vectors as running inline', async () => {
    const [a, b] = [await threaded.embedTokens(batch), await inline.embedTokens(batch)];
    expect(a).toHaveLength(64);
    a.forEach((v, i) => expect(Array.from(v)).toEqual(Array.from(b[i]!)));
    expect(threaded.info.backend).toBe('onnxruntime-node/cpu');
  });

  it('keeps the event loop turning while a batch runs', async () => {
    const threadedRun = await ticksDuring(() => threaded.embedTokens(batch));
    const inlineRun = await ticksDuring(() => inline.embedTokens(batch));
    // Inline, the whole run is one blocking call: at most a tick or two before and after it.
    // Threaded, a 1 ms timer keeps firing through the run.
    expect(threadedRun.ticks).toBeGreaterThan(Math.max(5, threadedRun.ms / 10));
    expect(inlineRun.ticks).toBeLessThan(Math.max(5, threadedRun.ticks / 2));
  });

  it('answers concurrent callers in order, and refuses work once closed', async () => {
    const parts = [batch.slice(0, 5), batch.slice(5, 9), batch.slice(9, 10)];
    const results = await Promise.all(parts.map((p) => threaded.embedTokens(p)));
    const expected = await inline.embedTokens(batch.slice(0, 10));
    expect(results.flat().map((v) => Array.from(v))).toEqual(expected.map((v) => Array.from(v)));
    const other = await loadEngine({ model: await fixtureModel(), dtype: 'fp32', threads: 1, thread: true });
    await other.close();
    await expect(other.embedTokens(batch.slice(0, 1))).rejects.toThrow(/closed/);
  });

  it('reports a model onnxruntime cannot load as a load error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'corom-thread-bad-'));
    cpSync(await fixtureModel(), dir, { recursive: true });
    truncateSync(join(dir, 'model.fp32.onnx'), 1000);
    try {
      await expect(loadEngine({ model: dir, dtype: 'fp32', thread: true })).rejects.toThrow(/model\.fp32\.onnx: onnxruntime cannot load it/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
