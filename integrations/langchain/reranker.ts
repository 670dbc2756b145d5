/**
 * Reranking for LangChain.js (a document compressor, as @langchain/cohere's CohereRerank), in
 * this process or through a corom server's POST /v1/rerank (the Jina / Cohere request shape, so
 * those rerank APIs answer too). What a score is depends on the model's kind:
 *   - a rerank model (a coROM passage-ranking cross-encoder) reads query and document together:
 *     sigmoid(logit) in (0, 1), ModelScope's text-ranking score;
 *   - an embedding model (bi-encoder): the cosine similarity of the two vectors, in [-1, 1].
 * In-process the kind comes from the folder (corom.json `task`); remotely the server's rerank
 * route does the right thing for the model it serves (GET /v1/models says its `kind`).
 */
import { Document, type DocumentInterface } from '@langchain/core/documents';
import { BaseDocumentCompressor } from '@langchain/core/retrievers/document_compressors';
import { AsyncCaller, type AsyncCallerParams } from '@langchain/core/utils/async_caller';
import { dot } from '../../src/engine/vectors.js';
import { CoromError } from '../../src/errors.js';
import { isTextRanker } from './local-engine.js';
import { resolveConnection, type Connection, type CoromConnectionParams, type LocalConnection, type RemoteConnection } from './connection.js';

export interface CoromRerankerParams extends AsyncCallerParams, CoromConnectionParams {
  /** Documents compressDocuments keeps, best first (default 3). */
  topN?: number;
}

export interface RerankResult {
  /** Position of the document in the list given to rerank(). */
  index: number;
  /** A rerank model: sigmoid(logit) in (0, 1); an embedding model: cosine similarity in [-1, 1]; other servers: their own scale. */
  relevanceScore: number;
}

/** What rerank() accepts as a document: a LangChain Document, its text, or `{text}` (Cohere / Jina). */
export type RerankDocument = DocumentInterface | string | Record<string, string>;

function noCallerRetry(error: unknown): never {
  throw error;
}

export class CoromReranker extends BaseDocumentCompressor {
  /** Model id sent to the server (remote) or served id (in-process); undefined = the server's default. */
  model: string | undefined;
  topN = 3;
  /** Queues remote calls (maxConcurrency); retries happen in the HTTP client. */
  caller: AsyncCaller;
  private readonly connection: Connection;

  constructor(fields: CoromRerankerParams = {}) {
    super();
    this.model = fields.model;
    this.topN = fields.topN ?? this.topN;
    checkTopN(this.topN);
    this.caller = new AsyncCaller({ maxConcurrency: fields.maxConcurrency ?? 2, onFailedAttempt: noCallerRetry });
    this.connection = resolveConnection('CoromReranker', fields, {
      ...(fields.maxRetries !== undefined ? { maxRetries: fields.maxRetries } : {}),
      ...(fields.onFailedAttempt ? { onFailedAttempt: fields.onFailedAttempt } : {}),
    });
  }

  get mode(): 'remote' | 'local' {
    return this.connection.kind;
  }

  /**
   * The `topN` documents most similar to the query, best first, as new Documents (the caller's are
   * left untouched) with `metadata.relevanceScore`.
   */
  async compressDocuments(documents: DocumentInterface[], query: string): Promise<DocumentInterface[]> {
    if (documents.length === 0) return [];
    const ranked = await this.rerank(documents, query, { topN: this.topN });
    return ranked.map(({ index, relevanceScore }) => {
      const doc = documents[index]!;
      return new Document({
        pageContent: doc.pageContent,
        metadata: { ...doc.metadata, relevanceScore },
        ...(doc.id !== undefined ? { id: doc.id } : {}),
      });
    });
  }

  /** Scores of the best `topN` documents (default: all), best first; ties keep input order. */
  async rerank(documents: RerankDocument[], query: string, options: { topN?: number } = {}): Promise<RerankResult[]> {
    if (typeof query !== 'string' || query === '') throw new CoromError('CoromReranker: the query must be a non-empty string');
    if (!Array.isArray(documents)) throw new CoromError('CoromReranker: documents must be an array');
    const topN = options.topN ?? documents.length;
    checkTopN(topN);
    if (documents.length === 0) return [];
    const texts = documents.map(documentText);
    const connection = this.connection;
    const results =
      connection.kind === 'local' ? await rankLocally(connection, texts, query) : await this.caller.call(() => rankRemotely(connection, texts, query, topN));
    return results.slice(0, topN);
  }

}

async function rankLocally(connection: LocalConnection, texts: string[], query: string): Promise<RerankResult[]> {
  const model = await connection.model();
  if (isTextRanker(model)) {
    // A cross-encoder, as the server's /v1/rerank with a rerank model: sigmoid of each pair's logit.
    const { scores } = await model.rank(query, texts);
    return sortByScore(scores.map((relevanceScore, index) => ({ index, relevanceScore })));
  }
  const engine = model;
  // The same computation as the server's /v1/rerank with an embedding model: unit vectors, dot product.
  const [queryVector, ...docVectors] = await engine.embed([query, ...texts], { normalize: true });
  return sortByScore(docVectors.map((v, index) => ({ index, relevanceScore: dot(queryVector!, v) })));
}

async function rankRemotely({ client, model }: RemoteConnection, texts: string[], query: string, topN: number): Promise<RerankResult[]> {
  const request: Record<string, unknown> = { query, documents: texts, top_n: topN, return_documents: false };
  if (model) request.model = model;
  const body = await client.postJson('/v1/rerank', request);
  return parseRerankResults(body, texts.length, `${client.baseUrl}/v1/rerank`);
}

function checkTopN(topN: unknown): void {
  if (!(typeof topN === 'number' && Number.isInteger(topN) && topN > 0)) throw new CoromError(`CoromReranker: topN must be a positive integer, got ${String(topN)}`);
}

function documentText(doc: RerankDocument, i: number): string {
  let text: unknown;
  if (typeof doc === 'string') text = doc;
  else if (doc && typeof doc === 'object' && typeof (doc as DocumentInterface).pageContent === 'string') text = (doc as DocumentInterface).pageContent;
  else if (doc && typeof doc === 'object' && 'text' in doc) text = (doc as Record<string, unknown>).text;
  else throw new CoromError(`CoromReranker: documents[${i}] must be a Document, a string or an object with a "text" string`);
  if (typeof text !== 'string') throw new CoromError(`CoromReranker: documents[${i}].text must be a string`);
  if (text === '') throw new CoromError(`CoromReranker: documents[${i}] is empty; coROM cannot embed empty text (filter empty chunks out)`);
  return text;
}

function sortByScore(results: RerankResult[]): RerankResult[] {
  return results.sort((a, b) => b.relevanceScore - a.relevanceScore || a.index - b.index);
}

/** `{results: [{index, relevance_score}]}` (corom, Jina, Cohere), checked and sorted best first. */
function parseRerankResults(body: unknown, count: number, url: string): RerankResult[] {
  const bad = (problem: string): never => {
    throw new CoromError(`${url} answered an unexpected rerank response: ${problem}`);
  };
  const results = (body as { results?: unknown } | null)?.results;
  if (!Array.isArray(results)) return bad('no "results" array');
  const seen = new Set<number>();
  const parsed = results.map((r: { index?: unknown; relevance_score?: unknown } | null, i) => {
    const index = r?.index;
    const score = r?.relevance_score;
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= count || seen.has(index)) bad(`results[${i}].index is ${String(index)}`);
    if (typeof score !== 'number' || !Number.isFinite(score)) bad(`results[${i}].relevance_score is ${String(score)}`);
    seen.add(index as number);
    return { index: index as number, relevanceScore: score as number };
  });
  return sortByScore(parsed);
}
