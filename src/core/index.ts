/** The core: served-model contract, per-model queues with dynamic batching, typed errors. No HTTP. */
export {
  isRankingModel,
  servedEngine,
  servedRanker,
  type EmbeddedBatch,
  type EmbeddingModel,
  type EngineLike,
  type RankerLike,
  type RankingModel,
  type ScoredBatch,
  type ServedModel,
  type TextEmbeddings,
  type TextModel,
  type TokenModel,
} from './served-model.js';
export { RankingRunner, type RankResult } from './ranking-runner.js';
export { DynamicBatcher, type BatchReport, type BatcherConfig, type BatcherHooks } from './batcher.js';
export { DEFAULT_BATCHING, resolveBatching } from './batching.js';
export { EmbeddingRunner, type EmbedResult, type TokenIdField } from './embedding-runner.js';
export type { SubmitOptions } from './batched-runner.js';
export { ModelRegistry, taskOf, type ModelRunner, type ModelSource, type ModelTask, type RunnerByTask } from './model-registry.js';
export { completeSequences, type TokenLimits } from './token-input.js';
export {
  BatchFailedError,
  CoreError,
  InvalidTokenIdError,
  NotReadyError,
  QueueFullError,
  QueueTimeoutError,
  RequestAbortedError,
  TokenIdsNotSupportedError,
  UnknownModelError,
  WrongModelTaskError,
  type AnyCoreError,
  type CoreErrorKind,
} from './errors.js';
