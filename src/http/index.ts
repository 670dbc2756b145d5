/** Public surface of the HTTP service (runtime-neutral). */
export { createApp, OPEN_PATHS, type CoromApp } from './app.js';
export { DEFAULT_BATCHING, DEFAULT_LIMITS, SERVICE_VERSION, type AppHooks, type AppOptions, type Limits } from './options.js';
export { servedEngine, servedRanker, type EmbeddedBatch, type EngineLike, type RankerLike, type RankingModel, type ServedModel, type TextEmbeddings, type TextModel, type TokenModel } from '../core/served-model.js';
export type { BatcherConfig } from '../core/batcher.js';
export type { ModelSource } from '../core/model-registry.js';
export { ApiError, type ApiErrorBody } from './api-error.js';
export { coreErrorToApiError } from './core-errors.js';
export { BACKEND_HEADER } from './service.js';
