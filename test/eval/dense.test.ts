/** Exact blocked search, passage windows, and the resumable vector cache on the fixture model. */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEngine } from '../../src/engine/load.js';
import type { Engine } from '../../src/engine/engine.js';
import { embedPassages, type EmbeddingEngine } from '../../src/eval/dense-embedding.js';
import { denseTopK, dot, onePerPassage, type PassageVectors, type VectorMatrix } from '../../src/eval/dense-search.js';
import { tokenWindows } from '../../src/eval/passage-windows.js';
import { hashCollection, VectorCache } from '../../src/eval/vector-cache.js';
import { convertedFixture } from '../helpers/fixture.js';

/** Deterministic pseudo-random floats (no Math.random: failures must reproduce). */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32 - 0.5;
  };
}

function randomMatrix(rows: number, dims: number, next: () => number): VectorMatrix {
  return { data: Float32Array.from({ length: rows * dims }, next), rows, dims };
}

/** Brute force: every pair, best window per passage, full sort with the tie rule. */
function bruteForce(queries: VectorMatrix, passages: PassageVectors, k: number): number[][] {
  const d = queries.dims;
  const count = passages.starts.length - 1;
  return Array.from({ length: queries.rows }, (_, q) => {
    const scores = Array.from({ length: count }, (_, p) => {
      let best = -Infinity;
      for (let row = passages.starts[p]!; row < passages.starts[p + 1]!; row++) {
        let s = 0;
        for (let i = 0; i < d; i++) s += queries.data[q * d + i]! * passages.vectors.data[row * d + i]!;
        best = Math.max(best, s);
      }
      return best;
    });
    return scores
      .map((s, p) => [p, s] as const)
      .sort((a, b) => b[1] - a[1] || a[0] - b[0])
      .slice(0, k)
      .map(([p]) => p);
  });
}

describe('denseTopK', () => {
  it('dot kernel handles lengths that are not multiples of 4 and offsets', () => {
    const a = Float32Array.from([9, 1, 2, 3, 4, 5, 6]);
    const b = Float32Array.from([1, 1, 1, 1, 1, 1]);
    expect(dot(a, 1, b, 0, 6)).toBe(21);
    expect(dot(a, 0, b, 0, 3)).toBe(12);
  });

  it('equals brute force for one vector per passage across block boundaries', () => {
    const next = lcg(7);
    const queries = randomMatrix(13, 10, next);
    const passages = onePerPassage(randomMatrix(37, 10, next));
    for (const options of [{}, { queryBlock: 4, passageBlockRows: 5 }, { queryBlock: 1, passageBlockRows: 1 }]) {
      const found = denseTopK(queries, passages, 9, options).map((t) => Array.from(t.indices));
      expect(found).toEqual(bruteForce(queries, passages, 9));
    }
  });

  it('scores a passage by its best window and never splits a passage across blocks', () => {
    const next = lcg(11);
    const counts = [1, 3, 2, 5, 1, 1, 4];
    const starts = new Int32Array(counts.length + 1);
    counts.forEach((c, p) => (starts[p + 1] = starts[p]! + c));
    const passages: PassageVectors = { vectors: randomMatrix(starts[counts.length]!, 6, next), starts };
    const queries = randomMatrix(5, 6, next);
    const found = denseTopK(queries, passages, 100, { queryBlock: 2, passageBlockRows: 3 }).map((t) => Array.from(t.indices));
    expect(found).toEqual(bruteForce(queries, passages, 100));
    expect(found[0]).toHaveLength(counts.length);
  });

  it('breaks exact ties by passage order', () => {
    const passages = onePerPassage({ data: Float32Array.from([1, 0, 0, 1, 1, 0, 0, 1]), rows: 4, dims: 2 });
    const queries = { data: Float32Array.from([1, 1]), rows: 1, dims: 2 };
    expect(Array.from(denseTopK(queries, passages, 3)[0]!.indices)).toEqual([0, 1, 2]);
  });

  it('refuses vectors of different sizes', () => {
    const passages = onePerPassage({ data: new Float32Array(4), rows: 2, dims: 2 });
    expect(() => denseTopK({ data: new Float32Array(3), rows: 1, dims: 3 }, passages, 1)).toThrow(RangeError);
  });
});

describe('tokenWindows', () => {
  const ids = Int32Array.from([101, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 102]);
  const windows = (maxLength: number, stride?: number, input = ids) =>
    tokenWindows(input, { maxLength, clsId: 101, sepId: 102, ...(stride ? { stride } : {}) }).map((w) => Array.from(w));

  it('cuts [CLS] body [SEP] into overlapping windows that reach the end', () => {
    expect(windows(6, 2)).toEqual([
      [101, 1, 2, 3, 4, 102],
      [101, 3, 4, 5, 6, 102],
      [101, 5, 6, 7, 8, 102],
      [101, 7, 8, 9, 10, 102],
    ]);
    expect(windows(6, 4)).toEqual([
      [101, 1, 2, 3, 4, 102],
      [101, 5, 6, 7, 8, 102],
      [101, 9, 10, 102],
    ]);
    // Default stride: half a window.
    expect(windows(6)).toEqual(windows(6, 2));
  });

  it('keeps a short passage (and an empty one) as a single window', () => {
    expect(windows(128)).toEqual([Array.from(ids)]);
    expect(windows(6, 2, Int32Array.from([101, 102]))).toEqual([[101, 102]]);
  });

  it('rejects strides outside 1..maxLength-2', () => {
    expect(() => windows(6, 5)).toThrow(/stride must be an integer between 1 and 4/);
    expect(() => windows(2)).toThrow(/no room/);
  });
});

describe('passage vectors with the vector cache (fixture model)', () => {
  let engine: Engine;
  let cacheRoot: string;
  const texts = Array.from({ length: 10 }, (_, i) => `第${i}段：北京天气${'很好'.repeat(i * 20)}`);

  beforeAll(async () => {
    engine = await loadEngine({ model: await convertedFixture('fp32') });
    cacheRoot = await mkdtemp(join(tmpdir(), 'corom-eval-cache-'));
  }, 60_000);
  afterAll(async () => {
    await engine?.close();
    await rm(cacheRoot, { recursive: true, force: true });
  });

  /** The engine, counting the passages it is asked to embed and failing after `failAfter` calls. */
  function counted(failAfter = Infinity): EmbeddingEngine & { embedded: number } {
    let calls = 0;
    const wrapper = {
      embedded: 0,
      info: engine.info,
      tokenizer: engine.tokenizer,
      async embed(batch: readonly string[], options?: { normalize?: boolean }) {
        if (++calls > failAfter) throw new Error('killed');
        wrapper.embedded += batch.length;
        return engine.embed(batch, options);
      },
      async embedTokens(ids: readonly Int32Array[]) {
        return engine.embedTokens(ids);
      },
    };
    return wrapper;
  }

  const open = (key: unknown) => VectorCache.open(cacheRoot, key, { passages: texts.length, dims: engine.info.dimensions, chunkPassages: 3 });

  it('writes chunks, resumes a killed run from the complete ones, and reuses them all on a rerun', async () => {
    const key = { test: 'resume', dataset: hashCollection(texts.map(String), texts) };
    const reference = await embedPassages(counted(), texts, { batchSize: 3, chunkPassages: 3 });

    // A run killed during its third engine call leaves two complete chunks (6 passages).
    const killed = counted(2);
    await expect(embedPassages(killed, texts, { batchSize: 3, cache: await open(key) })).rejects.toThrow('killed');
    const cacheDir = (await open(key)).dir;
    expect((await readdir(cacheDir)).filter((f) => f.endsWith('.bin'))).toEqual(['chunk-000000.bin', 'chunk-000001.bin']);
    // What a kill during a write leaves: a temporary file of a process that no longer exists.
    await writeFile(join(cacheDir, 'chunk-000002.bin.tmp-999999999-1767225600000'), Buffer.from('partial'));

    const resumed = counted();
    const second = await embedPassages(resumed, texts, { batchSize: 3, cache: await open(key) });
    expect(resumed.embedded).toBe(4);
    expect((await readdir(cacheDir)).filter((f) => f.includes('.tmp-'))).toEqual([]);
    expect(second.fromCache).toBe(6);
    expect(Array.from(second.vectors.data)).toEqual(Array.from(reference.vectors.data));

    const rerun = counted();
    const third = await embedPassages(rerun, texts, { batchSize: 3, cache: await open(key) });
    expect(rerun.embedded).toBe(0);
    expect(third.fromCache).toBe(texts.length);
    expect(Array.from(third.vectors.data)).toEqual(Array.from(reference.vectors.data));
    // Unit vectors: cosine = inner product.
    const d = engine.info.dimensions;
    expect(dot(third.vectors.data, 0, third.vectors.data, 0, d)).toBeCloseTo(1, 5);
  });

  it('recomputes a corrupt chunk file instead of trusting it', async () => {
    const key = { test: 'corrupt' };
    await embedPassages(counted(), texts, { batchSize: 3, cache: await open(key) });
    const cache = await open(key);
    await writeFile(join(cache.dir, 'chunk-000001.bin'), Buffer.from('CRV1 truncated'));
    const again = counted();
    await embedPassages(again, texts, { batchSize: 3, cache });
    expect(again.embedded).toBe(3);
  });

  it('--chunk: long passages get several windows, each a unit vector', async () => {
    const long = ['短', '长'.repeat(300)];
    const vectors = await embedPassages(engine, long, { chunk: true, stride: 63 });
    // 300 pieces, width 126, stride 63: windows at 0, 63, 126, 189 (the last reaches 300).
    expect(Array.from(vectors.starts)).toEqual([0, 1, 5]);
    const d = engine.info.dimensions;
    for (let row = 0; row < vectors.vectors.rows; row++) expect(dot(vectors.vectors.data, row * d, vectors.vectors.data, row * d, d)).toBeCloseTo(1, 5);
  });
});
