/**
 * Turns the collection and the queries into unit vectors with the engine: passages in batches,
 * chunk by chunk through the VectorCache (so a rerun or a resumed run embeds only what is missing),
 * queries in batches. Vectors are L2-normalised, so inner product = cosine.
 */
import type { ModelInfo } from '../engine/types.js';
import type { PassageVectors, VectorMatrix } from './dense-search.js';
import { tokenWindows } from './passage-windows.js';
import { SILENT_PROGRESS, type Progress } from './progress.js';
import type { VectorCache } from './vector-cache.js';

/** The part of the engine (src/engine/engine.ts) that evaluation uses. */
export interface EmbeddingEngine {
  readonly info: ModelInfo;
  readonly tokenizer: { readonly clsId: number; readonly sepId: number; encode(text: string, maxLength?: number): Int32Array };
  embed(texts: readonly string[], options?: { normalize?: boolean }): Promise<Float32Array[]>;
  embedTokens(ids: readonly Int32Array[]): Promise<Float32Array[]>;
}

export interface PassageEmbeddingOptions {
  /** Split long passages into windows (see passage-windows.ts) instead of truncating. */
  chunk?: boolean;
  stride?: number;
  /** Passages per engine call; default 32. */
  batchSize?: number;
  cache?: VectorCache;
  /** Passages per cache chunk when there is no cache; the cache's own layout wins otherwise. */
  chunkPassages?: number;
  progress?: Progress;
}

function normalizeInPlace(vector: Float32Array): Float32Array {
  let norm = 0;
  for (let i = 0; i < vector.length; i++) norm += vector[i]! * vector[i]!;
  norm = Math.sqrt(norm);
  if (norm > 0) for (let i = 0; i < vector.length; i++) vector[i]! /= norm;
  return vector;
}

/** One passage batch -> its window counts and unit vectors. */
async function encodeBatch(engine: EmbeddingEngine, texts: readonly string[], options: PassageEmbeddingOptions): Promise<{ counts: number[]; vectors: Float32Array[] }> {
  if (!options.chunk) {
    const vectors = await engine.embed(texts, { normalize: true });
    return { counts: texts.map(() => 1), vectors };
  }
  const windows: Int32Array[] = [];
  const counts: number[] = [];
  for (const text of texts) {
    // Number.MAX_SAFE_INTEGER: the whole passage; the windows do the cutting.
    const pieces = tokenWindows(engine.tokenizer.encode(text, Number.MAX_SAFE_INTEGER), {
      maxLength: engine.info.maxLength,
      stride: options.stride,
      clsId: engine.tokenizer.clsId,
      sepId: engine.tokenizer.sepId,
    });
    counts.push(pieces.length);
    windows.push(...pieces);
  }
  const vectors = (await engine.embedTokens(windows)).map(normalizeInPlace);
  return { counts, vectors };
}

export interface EmbeddedPassages extends PassageVectors {
  /** Passages whose vectors were read from the cache rather than computed. */
  fromCache: number;
}

export async function embedPassages(engine: EmbeddingEngine, texts: readonly string[], options: PassageEmbeddingOptions = {}): Promise<EmbeddedPassages> {
  const dims = engine.info.dimensions;
  const batchSize = Math.max(1, options.batchSize ?? 32);
  const cache = options.cache;
  const chunkPassages = cache?.layout.chunkPassages ?? Math.max(1, options.chunkPassages ?? 1024);
  const progress = options.progress ?? SILENT_PROGRESS;
  const chunkCount = Math.ceil(texts.length / chunkPassages);

  const chunks: { counts: Uint32Array; vectors: Float32Array }[] = new Array(chunkCount);
  const missing: number[] = [];
  let done = 0;
  for (let c = 0; c < chunkCount; c++) {
    const cached = cache ? await cache.read(c) : undefined;
    if (cached) {
      chunks[c] = { counts: cached.windowCounts, vectors: cached.vectors };
      done += cached.windowCounts.length;
    } else {
      missing.push(c);
    }
  }
  const fromCache = done;
  progress.start('embedding passages', texts.length, done);
  try {
    for (const c of missing) {
      const first = c * chunkPassages;
      const last = Math.min(first + chunkPassages, texts.length);
      const counts: number[] = [];
      const rows: Float32Array[] = [];
      for (let b = first; b < last; b += batchSize) {
        const batch = texts.slice(b, Math.min(b + batchSize, last));
        const encoded = await encodeBatch(engine, batch, options);
        counts.push(...encoded.counts);
        rows.push(...encoded.vectors);
        done += batch.length;
        progress.update(done);
      }
      const vectors = new Float32Array(rows.length * dims);
      rows.forEach((row, r) => {
        if (row.length !== dims) throw new RangeError(`the engine returned a ${row.length}-dimensional vector, expected ${dims}`);
        vectors.set(row, r * dims);
      });
      const chunk = { counts: Uint32Array.from(counts), vectors };
      chunks[c] = chunk;
      if (cache) await cache.write(c, { windowCounts: chunk.counts, vectors });
    }
  } finally {
    progress.stop();
  }

  const starts = new Int32Array(texts.length + 1);
  let passage = 0;
  for (const chunk of chunks) {
    for (const count of chunk.counts) {
      starts[passage + 1] = starts[passage]! + count;
      passage++;
    }
  }
  const data = new Float32Array(starts[texts.length]! * dims);
  let offset = 0;
  for (const chunk of chunks) {
    data.set(chunk.vectors, offset);
    offset += chunk.vectors.length;
  }
  return { vectors: { data, rows: starts[texts.length]!, dims }, starts, fromCache };
}

export async function embedQueries(engine: EmbeddingEngine, texts: readonly string[], options: { batchSize?: number; progress?: Progress } = {}): Promise<VectorMatrix> {
  const dims = engine.info.dimensions;
  const batchSize = Math.max(1, options.batchSize ?? 64);
  const progress = options.progress ?? SILENT_PROGRESS;
  const data = new Float32Array(texts.length * dims);
  progress.start('embedding queries', texts.length);
  try {
    for (let b = 0; b < texts.length; b += batchSize) {
      const vectors = await engine.embed(texts.slice(b, b + batchSize), { normalize: true });
      vectors.forEach((vector, i) => {
        if (vector.length !== dims) throw new RangeError(`the engine returned a ${vector.length}-dimensional vector, expected ${dims}`);
        data.set(vector, (b + i) * dims);
      });
      progress.update(Math.min(b + batchSize, texts.length));
    }
  } finally {
    progress.stop();
  }
  return { data, rows: texts.length, dims };
}
