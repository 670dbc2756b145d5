/**
 * The core without HTTP: model registry (tasks, default model, unknown ids, loading), embedding
 * runner (texts, token ids, text-only models, backends, typed errors), token-id completion and the
 * batching defaults. No sockets, no onnxruntime.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_BATCHING, resolveBatching } from '../../src/core/batching.js';
import {
  BatchFailedError,
  CoreError,
  InvalidTokenIdError,
  NotReadyError,
  QueueFullError,
  QueueTimeoutError,
  RequestAbortedError,
  TokenIdsNotSupportedError,
  UnknownModelError,
} from '../../src/core/errors.js';
import { ModelRegistry, taskOf } from '../../src/core/model-registry.js';
import { completeSequences } from '../../src/core/token-input.js';
import { DEFAULT_BUCKET_LIMITS, lengthBuckets } from '../../src/runtime/length-buckets.js';
import { fakeTextModel, fakeTokenModel } from '../http/fake-models.js';

const submit = { timeoutMs: 5_000, requestId: 'r1' };
const tick = () => new Promise((r) => setTimeout(r, 0));

function registry(models: ConstructorParameters<typeof ModelRegistry>[0], batching: Partial<typeof DEFAULT_BATCHING> = {}) {
  const reports: Array<{ model: string; size: number; ok: boolean }> = [];
  const reg = new ModelRegistry(models, resolveBatching(batching), (model, report) => reports.push({ model, size: report.size, ok: report.ok }));
  return { reg, reports };
}

describe('batching limits', () => {
  it('the queue defaults are the runtime bucket limits (one set of numbers)', () => {
    expect(DEFAULT_BATCHING.maxBatchTokens).toBe(DEFAULT_BUCKET_LIMITS.maxBatchTokens);
    expect(DEFAULT_BATCHING.maxBatchSize).toBe(DEFAULT_BUCKET_LIMITS.maxBatchSize);
    expect(DEFAULT_BUCKET_LIMITS).toEqual({ maxBatchTokens: 16384, maxBatchSize: 256 });
  });

  it('a full default batch of short sequences is one runtime bucket, run whole', () => {
    const lengths = new Array<number>(DEFAULT_BATCHING.maxBatchSize).fill(64);
    expect(lengthBuckets(lengths)).toHaveLength(1);
    expect(lengthBuckets([...lengths, 64])).toHaveLength(2);
  });

  it('resolveBatching fills defaults, ignores undefined and names a bad setting', () => {
    expect(resolveBatching({ maxBatchSize: 8, maxQueue: undefined })).toEqual({ ...DEFAULT_BATCHING, maxBatchSize: 8 });
    expect(() => resolveBatching({ maxBatchTokens: 0 })).toThrow(/batching.maxBatchTokens must be a positive integer, got 0/);
    expect(() => resolveBatching({ batchWaitMs: -1 })).toThrow(/batching.batchWaitMs/);
  });
});

describe('completeSequences', () => {
  const limits = { vocabSize: 100, maxLength: 5, cls: 1, sep: 2 };
  it('wraps in [CLS] ... [SEP] unless present, truncates keeping [SEP] last', () => {
    expect(completeSequences([[5, 6]], limits, () => 'input').map((s) => [...s])).toEqual([[1, 5, 6, 2]]);
    expect(completeSequences([[1, 5, 6, 2]], limits, () => 'input').map((s) => [...s])).toEqual([[1, 5, 6, 2]]);
    expect(completeSequences([[5, 6, 7, 8, 9]], limits, () => 'input').map((s) => [...s])).toEqual([[1, 5, 6, 7, 2]]);
    expect(completeSequences([[]], limits, () => 'input').map((s) => [...s])).toEqual([[1, 2]]);
  });

  it('names the exact path of an id outside the vocabulary', () => {
    const run = () => completeSequences([[5], [6, 100]], limits, (i) => `input[${i}]`);
    expect(run).toThrow(InvalidTokenIdError);
    try {
      run();
    } catch (err) {
      expect(err).toMatchObject({ kind: 'invalid_token_id', param: 'input[1][1]', id: 100, vocabSize: 100 });
      expect((err as Error).message).toBe("input[1][1]: token id 100 is outside this model's vocabulary; ids must be integers from 0 to 99");
    }
    expect(() => completeSequences([[-1]], limits, () => 'input')).toThrow(/input\[0\]: token id -1/);
    expect(() => completeSequences([[1.5]], limits, () => 'input')).toThrow(/input\[0\]: token id 1.5/);
  });
});

describe('ModelRegistry', () => {
  it('serves a list at once; the first model is the default; unknown ids name the param and the served ids', () => {
    const { reg } = registry([fakeTokenModel({ id: 'a' }), fakeTokenModel({ id: 'b' })]);
    expect(reg.ready).toBe(true);
    expect(reg.get('embedding', undefined).id).toBe('a');
    expect(reg.get('embedding', 'b').id).toBe('b');
    expect(reg.find('b', 'id').task).toBe('embedding');
    expect(() => reg.get('embedding', 'c', 'model')).toThrow(UnknownModelError);
    try {
      reg.find('c', 'id');
    } catch (err) {
      expect(err).toMatchObject({ kind: 'unknown_model', model: 'c', served: ['a', 'b'], param: 'id' });
    }
  });

  it('every served model today does the embedding task', () => {
    expect(taskOf(fakeTokenModel())).toBe('embedding');
    expect(taskOf(fakeTextModel())).toBe('embedding');
  });

  it('refuses no models and duplicate ids as a load failure, with the reason', () => {
    const empty = registry([]).reg;
    expect(empty.ready).toBe(false);
    expect(() => empty.checkReady()).toThrow(NotReadyError);
    expect(empty.notReadyReason).toMatch(/no models to serve/);
    expect(registry([fakeTokenModel({ id: 'x' }), fakeTokenModel({ id: 'x' })]).reg.notReadyReason).toMatch(/two models share the id 'x'/);
  });

  it('NotReadyError while a promise is pending, then ready', async () => {
    let release!: (m: ReturnType<typeof fakeTokenModel>[]) => void;
    const { reg } = registry(new Promise((r) => (release = r)));
    expect(() => reg.get('embedding', undefined)).toThrow(NotReadyError);
    try {
      reg.checkReady();
    } catch (err) {
      expect(err).toMatchObject({ kind: 'not_ready', reason: 'the models are still loading' });
    }
    release([fakeTokenModel()]);
    await reg.loaded;
    expect(reg.get('embedding', undefined).id).toBe('tiny-bert');
  });

  it('a failed loader is called again by the next caller, one call in flight', async () => {
    let calls = 0;
    const { reg } = registry(async () => {
      calls++;
      await tick();
      if (calls < 2) throw new Error('flaky');
      return [fakeTokenModel()];
    });
    await reg.loaded;
    expect(reg.notReadyReason).toBe('the models failed to load: flaky');
    expect(() => reg.checkReady()).toThrow(/flaky/);
    expect(() => reg.checkReady()).toThrow(/loading them again/);
    expect(calls).toBe(2);
    await reg.loaded;
    expect(reg.ready).toBe(true);
    expect(calls).toBe(2);
  });
});

describe('EmbeddingRunner', () => {
  it('embeds texts and token ids in input order with token counts and the backend label', async () => {
    const { reg } = registry([fakeTokenModel({ backend: 'cpu-a' })]);
    const runner = reg.get('embedding', undefined);
    const texts = await runner.embedTexts(['abc', 'a'], submit);
    expect(texts.tokenCounts).toEqual([5, 3]);
    expect(texts.backends).toEqual(['cpu-a']);
    const ids = await runner.embedTokenIds([[101, 1000 + 97, 1000 + 98, 1000 + 99, 102], [1000 + 97]], { name: 'input', nested: true }, submit);
    expect(ids.tokenCounts).toEqual([5, 3]);
    // Token ids equal to the tokenizer's output give the same vectors.
    expect([...ids.vectors[0]!]).toEqual([...texts.vectors[0]!]);
    expect([...ids.vectors[1]!]).toEqual([...texts.vectors[1]!]);
  });

  it('a text-only model refuses token ids and /tokenize naming the field, and embeds text', async () => {
    const { reg } = registry([fakeTextModel()]);
    const runner = reg.get('embedding', undefined);
    expect(runner.acceptsTokenIds).toBe(false);
    await expect(runner.embedTokenIds([[1]], { name: 'input', nested: false }, submit)).rejects.toBeInstanceOf(TokenIdsNotSupportedError);
    expect(() => runner.tokenize(['a'], 'model')).toThrow(expect.objectContaining({ kind: 'token_ids_not_supported', param: 'model', model: 'text-only' }));
    expect((await runner.embedTexts(['ab'], submit)).tokenCounts).toEqual([4]);
  });

  it('typed errors name the model: full queue, timeout, failed batch, abandoned request', async () => {
    const { reg, reports } = registry([fakeTokenModel({ delayMs: 60, failOn: 1000 + 120 })], { maxQueue: 1, maxBatchSize: 1 });
    const runner = reg.get('embedding', undefined);
    const first = runner.embedTexts(['a'], submit);
    expect(runner.full).toBe(true);
    await expect(runner.embedTexts(['b'], submit)).rejects.toMatchObject({ kind: 'queue_full', model: 'tiny-bert', maxQueue: 1 });
    await first;
    await expect(runner.embedTexts(['a'], { ...submit, timeoutMs: 10 })).rejects.toMatchObject({ kind: 'timeout', model: 'tiny-bert', timeoutMs: 10 });
    await new Promise((r) => setTimeout(r, 80));
    const failed = runner.embedTexts(['x'], submit);
    await expect(failed).rejects.toBeInstanceOf(BatchFailedError);
    await expect(failed).rejects.toMatchObject({ model: 'tiny-bert' });
    expect(reports.some((r) => !r.ok)).toBe(true);
    const controller = new AbortController();
    const abandoned = runner.embedTexts(['c'], { ...submit, signal: controller.signal });
    controller.abort();
    await expect(abandoned).rejects.toBeInstanceOf(RequestAbortedError);
    for (const E of [QueueFullError, QueueTimeoutError, BatchFailedError, RequestAbortedError]) expect(E.prototype).toBeInstanceOf(CoreError);
  });
});
