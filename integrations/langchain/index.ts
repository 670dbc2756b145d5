/**
 * corom-edge/langchain: coROM for LangChain.js RAG pipelines, in this process or over HTTP.
 * `@langchain/core` (>= 1.0) is a peer dependency.
 */
export { CoromEmbeddings, type CoromEmbeddingsParams } from './embeddings.js';
export { CoromReranker, type CoromRerankerParams, type RerankDocument, type RerankResult } from './reranker.js';
export type { CoromConnectionParams } from './connection.js';
export { CoromHttpError } from './errors.js';
export type { FetchLike } from './http-client.js';
export { releaseSharedEngines, type LocalModelOptions, type TextEmbedder } from './local-engine.js';
export { CoromBM25Retriever, type CoromBM25Options, type CoromBM25RetrieverInput } from './bm25-retriever.js';
export { CoromHybridRetriever, type CoromHybridRetrieverInput } from './hybrid-retriever.js';
