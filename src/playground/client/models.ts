/** The /v1/models list as the page uses it: parsing, option labels, and the retry while it loads. */
import type { ApiResult } from './api.js';

/** The part of a /v1/models entry the page uses. */
export interface ModelCard {
  id: string;
  /** Embedding models only. */
  dimensions?: number;
  max_length: number;
  backend: string;
  dtype: string;
  /** What the model does; older servers do not report it (every model is then an embedder). */
  kind?: string;
}

export type ModelKind = 'embedding' | 'rerank';

/**
 * The models a view can use: those of its kind when the server reports kinds, every model when
 * it reports none (an older server; the view's own route then answers whether it can).
 */
export function modelsOfKind(models: readonly ModelCard[], kind: ModelKind): ModelCard[] {
  if (!models.some((m) => typeof m.kind === 'string')) return [...models];
  return models.filter((m) => (m.kind ?? 'embedding') === kind);
}

/** The entries of a /v1/models answer that have an id; anything else is an empty list. */
export function parseModelList(payload: unknown): ModelCard[] {
  const data = (payload as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) return [];
  return data.filter((m): m is ModelCard => typeof m === 'object' && m !== null && typeof (m as { id?: unknown }).id === 'string');
}

export function modelOptionLabel(model: ModelCard): string {
  const what = model.kind === 'rerank' ? '排序模型' : typeof model.dimensions === 'number' ? `${model.dimensions} 维` : '句向量模型';
  return `${model.id}（${what} · ${model.dtype} · ${model.backend}）`;
}

/** The server answers 503 while it loads the model: ask again this many times at most. */
export const MODEL_LIST_MAX_ATTEMPTS = 60;

/**
 * Milliseconds to wait before asking for the list again after `failure` (the `attempt`-th in a
 * row, from 1), or undefined when it is not worth retrying: only 503, Retry-After capped at 10 s.
 */
export function modelListRetryDelayMs(failure: Extract<ApiResult, { ok: false }>, attempt: number): number | undefined {
  if (failure.status !== 503 || attempt > MODEL_LIST_MAX_ATTEMPTS) return undefined;
  return Math.min(failure.retryAfterSeconds ?? 1, 10) * 1000;
}

/** The backend to show for an answer: the response header, else the model list's, else a note. */
export function answeringBackend(header: string | null, models: readonly ModelCard[], modelId: string): string {
  return header ?? models.find((m) => m.id === modelId)?.backend ?? '未知（/v1/models 不可用）';
}
