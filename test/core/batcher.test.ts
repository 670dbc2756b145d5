import { describe, expect, it } from 'vitest';
import { DynamicBatcher, type BatchReport, type BatcherConfig } from '../../src/core/batcher.js';
import { BatchFailedError, QueueFullError, QueueTimeoutError } from '../../src/core/errors.js';

/** A deterministic stand-in backend: the output of a sequence is its first id times 10 plus its length. */
function recordingBackend(options: { delayMs?: number; failWhen?: (items: number[][]) => boolean } = {}) {
  const batches: number[][][] = [];
  return {
    batches,
    run: async (items: number[][]): Promise<number[]> => {
      batches.push(items);
      if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
      if (options.failWhen?.(items)) throw new Error('backend exploded');
      return items.map((seq) => seq[0] * 10 + seq.length);
    },
  };
}

const seq = (id: number, length: number): number[] => [id, ...new Array<number>(length - 1).fill(0)];

function config(overrides: Partial<BatcherConfig> = {}): BatcherConfig {
  return { enabled: true, maxBatchTokens: 1000, maxBatchSize: 16, maxQueue: 100, batchWaitMs: 5, concurrency: 1, ...overrides };
}

describe('DynamicBatcher', () => {
  it('merges concurrent requests into one batch and answers each in its own order', async () => {
    const backend = recordingBackend();
    const reports: BatchReport[] = [];
    const batcher = new DynamicBatcher(config(), { run: backend.run, lengthOf: (s) => s.length, onBatch: (r) => reports.push(r) });
    const a = batcher.submit([seq(1, 3), seq(2, 5), seq(3, 4)], { tag: 'a' });
    const b = batcher.submit([seq(4, 4), seq(5, 3)], { tag: 'b' });
    expect(await a).toEqual([13, 25, 34]);
    expect(await b).toEqual([44, 53]);
    expect(backend.batches).toHaveLength(1);
    expect(reports[0]).toMatchObject({ size: 5, tokens: 19, paddedTokens: 25, ok: true });
    expect(reports[0].tags.sort()).toEqual(['a', 'b']);
    expect(batcher.pendingRequests).toBe(0);
    expect(batcher.queuedSequences).toBe(0);
  });

  it('keeps every batch within the padded-token budget and the row limit', async () => {
    const backend = recordingBackend();
    const batcher = new DynamicBatcher(config({ maxBatchTokens: 40, maxBatchSize: 4 }), { run: backend.run, lengthOf: (s) => s.length });
    const lengths = [3, 17, 5, 9, 12, 2, 20, 8, 8, 8, 1, 15, 6, 4, 11, 19];
    const requests = lengths.map((len, i) => batcher.submit([seq(i, len)]));
    const outputs = await Promise.all(requests);
    outputs.forEach((out, i) => expect(out).toEqual([i * 10 + lengths[i]]));
    for (const batch of backend.batches) {
      const longest = Math.max(...batch.map((s) => s.length));
      expect(batch.length).toBeLessThanOrEqual(4);
      expect(batch.length * longest).toBeLessThanOrEqual(40);
    }
    expect(backend.batches.flat()).toHaveLength(lengths.length);
  });

  it('fills a batch with the lengths closest to the oldest waiting sequence', async () => {
    const backend = recordingBackend();
    const batcher = new DynamicBatcher(config({ maxBatchSize: 3, batchWaitMs: 20 }), { run: backend.run, lengthOf: (s) => s.length });
    const all = Promise.all([10, 50, 11, 49, 12, 51].map((len, i) => batcher.submit([seq(i, len)])));
    await all;
    const lengthsPerBatch = backend.batches.map((b) => b.map((s) => s.length).sort((x, y) => x - y));
    expect(lengthsPerBatch).toEqual([
      [10, 11, 12],
      [49, 50, 51],
    ]);
  });

  it('lets a single sequence longer than the budget through alone', async () => {
    const backend = recordingBackend();
    const batcher = new DynamicBatcher(config({ maxBatchTokens: 8 }), { run: backend.run, lengthOf: (s) => s.length });
    expect(await batcher.submit([seq(7, 30), seq(8, 2)])).toEqual([100, 82]);
    expect(backend.batches.map((b) => b.length)).toEqual([1, 1]);
  });

  it('refuses a request at once when maxQueue requests are pending', async () => {
    const backend = recordingBackend({ delayMs: 30 });
    const batcher = new DynamicBatcher(config({ maxQueue: 2 }), { run: backend.run, lengthOf: (s) => s.length });
    const first = batcher.submit([seq(1, 2)]);
    const second = batcher.submit([seq(2, 2)]);
    await expect(batcher.submit([seq(3, 2)])).rejects.toBeInstanceOf(QueueFullError);
    expect(await first).toEqual([12]);
    expect(await second).toEqual([22]);
    expect(await batcher.submit([seq(4, 2)])).toEqual([42]);
  });

  it('times out a request that waited too long and drops its queued sequences', async () => {
    const backend = recordingBackend({ delayMs: 60 });
    const batcher = new DynamicBatcher(config({ maxBatchSize: 1, batchWaitMs: 0 }), { run: backend.run, lengthOf: (s) => s.length });
    const slow = batcher.submit([seq(1, 2)]);
    const late = batcher.submit([seq(2, 2), seq(3, 2), seq(4, 2)], { timeoutMs: 20 });
    await expect(late).rejects.toBeInstanceOf(QueueTimeoutError);
    expect(await slow).toEqual([12]);
    expect(batcher.pendingRequests).toBe(0);
    expect(batcher.queuedSequences).toBe(0);
    await new Promise((r) => setTimeout(r, 150));
    // Only the batch that was already running when the deadline passed reached the backend.
    expect(backend.batches.flat().map((s) => s[0])).not.toContain(4);
  });

  it('fails only the requests of a batch whose inference threw', async () => {
    const backend = recordingBackend({ failWhen: (items) => items.some((s) => s[0] === 666) });
    const reports: BatchReport[] = [];
    const batcher = new DynamicBatcher(config({ maxBatchSize: 2, batchWaitMs: 10 }), {
      run: backend.run,
      lengthOf: (s) => s.length,
      onBatch: (r) => reports.push(r),
    });
    // Lengths keep the poisoned request in its own batch: 2+2 rows at length 5, then 666 at length 40.
    const good1 = batcher.submit([seq(1, 5)], { tag: 'good1' });
    const good2 = batcher.submit([seq(2, 5)], { tag: 'good2' });
    const bad = batcher.submit([seq(666, 40)], { tag: 'bad' });
    const results = await Promise.allSettled([good1, good2, bad]);
    expect(results[0]).toEqual({ status: 'fulfilled', value: [15] });
    expect(results[1]).toEqual({ status: 'fulfilled', value: [25] });
    expect(results[2].status).toBe('rejected');
    expect((results[2] as PromiseRejectedResult).reason).toBeInstanceOf(BatchFailedError);
    expect(reports.find((r) => !r.ok)?.tags).toEqual(['bad']);
    // The batcher keeps serving.
    expect(await batcher.submit([seq(3, 2)])).toEqual([32]);
  });

  it('rejects a backend that returns the wrong number of outputs as a failed batch', async () => {
    const batcher = new DynamicBatcher<number[], number>(config(), { run: async () => [1], lengthOf: (s) => s.length });
    await expect(batcher.submit([seq(1, 2), seq(2, 2)])).rejects.toBeInstanceOf(BatchFailedError);
  });

  it('runs each request alone when batching is disabled', async () => {
    const backend = recordingBackend();
    const batcher = new DynamicBatcher(config({ enabled: false }), { run: backend.run, lengthOf: (s) => s.length });
    const out = await Promise.all([batcher.submit([seq(1, 3), seq(2, 9)]), batcher.submit([seq(3, 4)]), batcher.submit([seq(4, 4)])]);
    expect(out).toEqual([[13, 29], [34], [44]]);
    expect(backend.batches.map((b) => b.map((s) => s[0]))).toEqual([[1, 2], [3], [4]]);
  });

  it('serves the oldest waiting sequence first, so short bursts cannot starve a long one', async () => {
    const backend = recordingBackend({ delayMs: 5 });
    const batcher = new DynamicBatcher(config({ maxBatchSize: 2, batchWaitMs: 0 }), { run: backend.run, lengthOf: (s) => s.length });
    const first = batcher.submit([seq(1, 3)]);
    const long = batcher.submit([seq(99, 100)]);
    const shorts = Array.from({ length: 8 }, (_, i) => batcher.submit([seq(i + 10, 3)]));
    await Promise.all([first, long, ...shorts]);
    const batchOfLong = backend.batches.findIndex((b) => b.some((s) => s[0] === 99));
    expect(batchOfLong).toBeLessThanOrEqual(1);
  });

  it('with keepAlive, keeps each timer and batch alive by a request that is still waiting for it', async () => {
    // workerd cancels a request's timers and I/O when it ends: the batch after A's must not be
    // scheduled from A's context (A is answered by then) but from B's, then C's.
    const backend = recordingBackend({ delayMs: 2 });
    const reports: BatchReport[] = [];
    const batcher = new DynamicBatcher(config({ maxBatchSize: 2, batchWaitMs: 0 }), { run: backend.run, lengthOf: (s) => s.length, onBatch: (r) => reports.push(r) });
    const kept: Array<{ by: string; batchesWhenSettled?: number }> = [];
    const answered = new Set<string>();
    const keepAlive = (by: string) => (work: Promise<unknown>) => {
      // The request keeping work alive must still be waiting when it takes it on.
      expect(answered.has(by), `${by} was already answered`).toBe(false);
      const entry: { by: string; batchesWhenSettled?: number } = { by };
      kept.push(entry);
      void work.then(() => (entry.batchesWhenSettled = reports.length));
    };
    const submit = (tag: string, items: number[][]) =>
      batcher.submit(items, { tag, keepAlive: keepAlive(tag) }).then((out) => {
        answered.add(tag);
        return out;
      });
    const results = await Promise.all([submit('a', [seq(1, 3), seq(2, 3)]), submit('b', [seq(3, 3), seq(4, 3)]), submit('c', [seq(5, 3)])]);
    expect(results).toEqual([[13, 23], [33, 43], [53]]);
    expect(reports.map((r) => r.tags)).toEqual([['a'], ['b'], ['c']]);
    await new Promise((r) => setTimeout(r, 0));
    // One keep-alive per timer, each settled only once the batch it started had finished.
    expect(kept).toEqual([
      { by: 'a', batchesWhenSettled: 1 },
      { by: 'b', batchesWhenSettled: 2 },
      { by: 'c', batchesWhenSettled: 3 },
    ]);
  });

  it('rejects nonsensical configuration', () => {
    expect(() => new DynamicBatcher(config({ maxBatchSize: 0 }), { run: async () => [], lengthOf: () => 1 })).toThrow(/maxBatchSize/);
    expect(() => new DynamicBatcher(config({ batchWaitMs: -1 }), { run: async () => [], lengthOf: () => 1 })).toThrow(/batchWaitMs/);
  });
});
