/** Public surface of the HTTP service (runtime-neutral). */
export { createApp, OPEN_PATHS, type CoromApp } from './app.js';
export { DEFAULT_BATCHING, DEFAULT_LIMITS, SERVICE_VERSION, type AppOptions, type Limits } from './options.js';
export { servedEngine, type EngineLike, type ServedModel, type TextEmbeddings, type TextModel, type TokenModel } from '../core/served-model.js';
export type { BatcherConfig } from './batcher.js';
export { ApiError, type ApiErrorBody } from './api-error.js';
