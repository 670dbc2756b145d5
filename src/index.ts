/**
 * corom-edge's library entry (Node). The runtime-neutral pieces (tokenizer, Engine, the Hono app)
 * are safe to bundle for Workers; loadEngine, the converter and the hub client use node: APIs.
 * LangChain integrations are the `corom-edge/langchain` subpath.
 */
export { Engine, pipelineOutput } from './engine/engine.js';
export { loadEngine, loadModel, loadRanker, type LoadEngineOptions } from './engine/load.js';
export { Ranker, sigmoid } from './engine/ranker.js';
export { cosine, dot, normalized } from './engine/vectors.js';
export { BACKENDS, DTYPES, type BackendName, type Dtype, type Embedder, type ModelInfo, type PipelineInput, type PipelineOutput, type Pooling } from './engine/types.js';
export { MODEL_KINDS, type ModelKind, type PairScorer, type RankerInfo, type RankingInput, type RankingOutput, type TokenPair } from './engine/types.js';
export { parseRankingInput } from './engine/pipeline-input.js';
export { WordPieceTokenizer } from './tokenizer/wordpiece.js';
export { loadTokenizer } from './tokenizer/load.js';
export { convertCheckpoint, type ConvertOptions, type ConvertResult } from './store/convert.js';
export type { ConvertedMetadata } from './store/metadata.js';
export { createApp, type AppHooks, type AppOptions } from './http/index.js';
export {
  servedEngine,
  DEFAULT_BATCHING,
  DynamicBatcher,
  EmbeddingRunner,
  ModelRegistry,
  CoreError,
  type AnyCoreError,
  type BatcherConfig,
  type EmbeddedBatch,
  type ModelSource,
  type ModelTask,
  type ServedModel,
  type TextModel,
  type TokenModel,
} from './core/index.js';
export { resolveDefaultModel } from './hub/resolve.js';
export { fetchModel } from './hub/fetch-model.js';
export { KNOWN_MODELS, findKnownModel } from '../models/registry.js';
export { BM25Index } from './retrieval/bm25.js';
export { reciprocalRankFusion } from './retrieval/fusion.js';
export { CoromError, ModelFileError, ModelKindError, UsageError } from './errors.js';
