/**
 * One evaluation: a retriever (built from the settings) ranks the dataset's queries, and the
 * rankings are scored. The engine is loaded here for dense/hybrid and closed before returning.
 * With `rerank`, a cross-encoder then reorders each query's top K and the rankings are scored
 * again, so one run reports the metrics before and after reranking.
 */
import { loadEngine, loadRanker, type LoadEngineOptions } from '../engine/load.js';
import type { Dtype } from '../engine/types.js';
import { DEFAULT_RRF_K } from '../retrieval/fusion.js';
import { evaluateRankings, metricDepth, type MetricResult, type MetricSpec } from './metrics.js';
import { SILENT_PROGRESS, type Progress } from './progress.js';
import { BM25EvalRetriever, DenseEvalRetriever, HybridEvalRetriever, type EvalRetriever } from './retrievers.js';
import type { Ranking, RetrievalDataset } from './types.js';
import { hashCollection, modelFingerprint, VectorCache } from './vector-cache.js';
import { defaultStride } from './passage-windows.js';
import { rerankRankings, type EvalReranker } from './rerank.js';

export type RetrieverName = 'dense' | 'bm25' | 'hybrid';
export const RETRIEVER_NAMES: readonly RetrieverName[] = ['dense', 'bm25', 'hybrid'];

export interface EvalSettings {
  retriever: RetrieverName;
  metrics: readonly MetricSpec[];
  /** Evaluate only the first N queries of the dataset. */
  limit?: number;
  k1?: number;
  b?: number;
  rrfK?: number;
  /** Dense / hybrid: how to load the model. */
  engine?: LoadEngineOptions;
  chunk?: boolean;
  stride?: number;
  /** Passages per engine call. */
  batchSize?: number;
  /** Folder for cached passage vectors; undefined = no cache. */
  cacheRoot?: string;
  /** Passages per cache chunk; default 1024. */
  cachePassages?: number;
  /**
   * Rerank each query's first-stage top `depth` with a cross-encoder: the ranker loaded from
   * `engine`, or the one passed in `EvalHooks.reranker`.
   */
  rerank?: { depth: number; engine?: LoadEngineOptions };
}

/** The second stage's part of a run: which ranker, how deep, and the metrics after reranking. */
export interface RerankRun {
  model?: { path: string; id: string; dtype: Dtype; backend: string; maxLength: number };
  depth: number;
  /** (query, passage) pairs the cross-encoder scored. */
  pairs: number;
  result: MetricResult;
  seconds: number;
}

export interface EvalRun {
  retriever: RetrieverName;
  model?: { path: string; id: string; dtype: Dtype; backend: string; maxLength: number; dimensions: number };
  settings: { k1?: number; b?: number; rrfK?: number; chunk?: boolean; stride?: number; depth: number };
  queries: number;
  result: MetricResult;
  /** Dense / hybrid: where the passage vectors are cached, and how many passages came from there. */
  embedding?: { passages: number; vectors: number; fromCache: number; cacheDir?: string };
  /** First stage + load time; `result` holds the first stage's metrics. */
  seconds: number;
  rerank?: RerankRun;
}

export interface EvalHooks {
  progress?: Progress;
  /** A cross-encoder to rerank with instead of loading `settings.rerank.engine` (tests, library callers). */
  reranker?: EvalReranker;
}

export function selectQueries(dataset: RetrievalDataset, limit?: number): number[] {
  const count = limit === undefined ? dataset.queryIds.length : Math.min(limit, dataset.queryIds.length);
  return Array.from({ length: count }, (_, i) => i);
}

export async function evaluate(dataset: RetrievalDataset, settings: EvalSettings, hooks: EvalHooks = {}): Promise<EvalRun> {
  const rerank = settings.rerank;
  if (rerank !== undefined && (!Number.isInteger(rerank.depth) || rerank.depth < 1)) throw new RangeError(`rerank depth must be a positive integer (got ${rerank.depth})`);
  if (rerank !== undefined && !hooks.reranker && !rerank.engine) throw new RangeError('reranking needs a ranker model');
  // The first stage ranks deep enough for both the metrics and the reranker.
  const depth = Math.max(metricDepth(settings.metrics), rerank?.depth ?? 0);
  const { run, rankings } = await firstStage(dataset, settings, hooks, depth);
  if (rerank === undefined) return run;

  const started = performance.now();
  const queries = selectQueries(dataset, settings.limit);
  let reranker: EvalReranker | undefined = hooks.reranker;
  let model: RerankRun['model'];
  let close = async (): Promise<void> => {};
  if (!reranker) {
    const ranker = await loadRanker(rerank.engine!);
    const info = ranker.info;
    model = { path: rerank.engine!.model, id: info.id, dtype: info.dtype, backend: info.backend, maxLength: info.maxLength };
    reranker = ranker;
    close = () => ranker.close();
  }
  try {
    const reranked = await rerankRankings(dataset, queries, rankings, reranker, rerank.depth, hooks.progress ?? SILENT_PROGRESS);
    run.rerank = {
      ...(model ? { model } : {}),
      depth: rerank.depth,
      pairs: reranked.pairs,
      result: evaluateRankings(reranked.rankings, queries.map((q) => dataset.relevant[q]!), settings.metrics),
      seconds: (performance.now() - started) / 1000,
    };
    return run;
  } finally {
    await close();
  }
}

async function firstStage(dataset: RetrievalDataset, settings: EvalSettings, hooks: EvalHooks, depth: number): Promise<{ run: EvalRun; rankings: Ranking[] }> {
  const started = performance.now();
  const progress = hooks.progress ?? SILENT_PROGRESS;
  const queries = selectQueries(dataset, settings.limit);
  const k1 = settings.k1 ?? 1.2;
  const b = settings.b ?? 0.75;
  const rrfK = settings.rrfK ?? DEFAULT_RRF_K;

  if (settings.retriever === 'bm25') {
    const retriever = new BM25EvalRetriever(dataset, { k1, b, progress });
    const rankings = await retriever.rank(queries, depth);
    const run: EvalRun = {
      retriever: 'bm25',
      settings: { k1, b, depth },
      queries: queries.length,
      result: evaluateRankings(rankings, queries.map((q) => dataset.relevant[q]!), settings.metrics),
      seconds: (performance.now() - started) / 1000,
    };
    return { run, rankings };
  }

  if (!settings.engine) throw new RangeError(`the ${settings.retriever} retriever needs a model`);
  const engine = await loadEngine(settings.engine);
  try {
    const info = engine.info;
    const stride = settings.chunk ? (settings.stride ?? defaultStride(info.maxLength)) : undefined;
    let cache: VectorCache | undefined;
    if (settings.cacheRoot !== undefined) {
      const key = {
        model: await modelFingerprint(settings.engine.model),
        dtype: info.dtype,
        maxLength: info.maxLength,
        pooling: info.pooling,
        windows: settings.chunk ? { stride } : 'truncate',
        dataset: hashCollection(dataset.passageIds, dataset.passageTexts),
      };
      cache = await VectorCache.open(settings.cacheRoot, key, {
        passages: dataset.passageIds.length,
        dims: info.dimensions,
        chunkPassages: Math.max(1, settings.cachePassages ?? 1024),
      });
    }
    const dense = new DenseEvalRetriever(dataset, engine, {
      chunk: settings.chunk,
      stride,
      batchSize: settings.batchSize,
      cache,
      progress,
    });
    let retriever: EvalRetriever = dense;
    if (settings.retriever === 'hybrid') {
      retriever = new HybridEvalRetriever(new BM25EvalRetriever(dataset, { k1, b, progress, fillWithUnmatched: false }), dense, rrfK);
    }
    const rankings = await retriever.rank(queries, depth);
    const run: EvalRun = {
      retriever: settings.retriever,
      model: {
        path: settings.engine.model,
        id: info.id,
        dtype: info.dtype,
        backend: info.backend,
        maxLength: info.maxLength,
        dimensions: info.dimensions,
      },
      settings: {
        ...(settings.retriever === 'hybrid' ? { k1, b, rrfK } : {}),
        chunk: settings.chunk ?? false,
        ...(stride !== undefined ? { stride } : {}),
        depth,
      },
      queries: queries.length,
      result: evaluateRankings(rankings, queries.map((q) => dataset.relevant[q]!), settings.metrics),
      embedding: { ...dense.stats, ...(cache ? { cacheDir: cache.dir } : {}) },
      seconds: (performance.now() - started) / 1000,
    };
    return { run, rankings };
  } finally {
    await engine.close();
  }
}
