/**
 * coROM embeddings for LangChain.js: in this process (onnxruntime-node) or from a corom server /
 * any OpenAI-compatible /v1/embeddings endpoint. See ./connection.ts for how the mode is chosen.
 */
import { Embeddings, type EmbeddingsParams } from '@langchain/core/embeddings';
import { chunkArray } from '@langchain/core/utils/chunk_array';
import { normalized } from '../../src/engine/vectors.js';
import { CoromError } from '../../src/errors.js';
import { resolveConnection, type Connection, type CoromConnectionParams, type RemoteConnection } from './connection.js';
import { decodeBase64Floats } from './float-encoding.js';

export interface CoromEmbeddingsParams extends EmbeddingsParams, CoromConnectionParams {
  /**
   * Texts per request (remote) or per engine call (in-process). Default 256: well under the
   * server's 2048 inputs and 4 MiB body, and large enough for the engine's length bucketing.
   */
  batchSize?: number;
  /** Unit-length vectors (default true). false gives the raw [CLS] vector, as ModelScope's pipeline. */
  normalize?: boolean;
  /**
   * Replace "\n" with " " first (default false: BERT's tokenizer already treats newlines as
   * spaces, so for coROM it changes nothing; it is here for OpenAI-compatible servers of other models).
   */
  stripNewLines?: boolean;
  /** Wire format of remote vectors (default 'base64': exact float32, a third of the JSON size). */
  encodingFormat?: 'base64' | 'float';
}

/** Rethrows at once: retries happen in the HTTP client (Retry-After aware), the caller only queues. */
function noCallerRetry(error: unknown): never {
  throw error;
}

export class CoromEmbeddings extends Embeddings {
  /** Model id sent to the server (remote) or served id (in-process); undefined = the server's default. */
  model: string | undefined;
  batchSize = 256;
  normalize = true;
  stripNewLines = false;
  encodingFormat: 'base64' | 'float' = 'base64';
  private readonly connection: Connection;

  constructor(fields: CoromEmbeddingsParams = {}) {
    super({ maxConcurrency: fields.maxConcurrency ?? 2, onFailedAttempt: noCallerRetry });
    this.model = fields.model;
    this.batchSize = fields.batchSize ?? this.batchSize;
    this.normalize = fields.normalize ?? this.normalize;
    this.stripNewLines = fields.stripNewLines ?? this.stripNewLines;
    this.encodingFormat = fields.encodingFormat ?? this.encodingFormat;
    if (!(Number.isInteger(this.batchSize) && this.batchSize > 0)) throw new CoromError(`CoromEmbeddings: batchSize must be a positive integer, got ${fields.batchSize}`);
    if (this.encodingFormat !== 'base64' && this.encodingFormat !== 'float') {
      throw new CoromError(`CoromEmbeddings: encodingFormat must be 'base64' or 'float', got '${String(fields.encodingFormat)}'`);
    }
    this.connection = resolveConnection('CoromEmbeddings', fields, {
      ...(fields.maxRetries !== undefined ? { maxRetries: fields.maxRetries } : {}),
      ...(fields.onFailedAttempt ? { onFailedAttempt: fields.onFailedAttempt } : {}),
    });
  }

  /** 'remote' (HTTP) or 'local' (this process). */
  get mode(): 'remote' | 'local' {
    return this.connection.kind;
  }

  /** One vector per text, in input order; texts must be non-empty strings. */
  async embedDocuments(documents: string[]): Promise<number[][]> {
    const texts = this.prepare(documents, 'documents');
    if (texts.length === 0) return [];
    const batches = chunkArray(texts, this.batchSize);
    const connection = this.connection;
    let vectors: Float32Array[];
    if (connection.kind === 'local') {
      const engine = await connection.engine();
      vectors = [];
      // One batch at a time: the engine already uses every core for each one.
      for (const batch of batches) vectors.push(...(await engine.embed(batch, { normalize: this.normalize })));
    } else {
      const results = await Promise.all(batches.map((batch) => this.caller.call(() => this.embedRemote(connection, batch))));
      vectors = results.flat();
    }
    return vectors.map((v) => Array.from(v));
  }

  async embedQuery(document: string): Promise<number[]> {
    const [vector] = await this.embedDocuments([this.prepare([document], 'query')[0]!]);
    return vector!;
  }

  private prepare(texts: unknown, what: 'documents' | 'query'): string[] {
    if (!Array.isArray(texts)) throw new CoromError(`CoromEmbeddings: ${what} must be an array of strings, got ${typeof texts}`);
    return texts.map((text, i) => {
      const at = what === 'query' ? 'the query' : `documents[${i}]`;
      if (typeof text !== 'string') throw new CoromError(`CoromEmbeddings: ${at} is ${text === null ? 'null' : typeof text}, expected a string`);
      if (text === '') throw new CoromError(`CoromEmbeddings: ${at} is an empty string; coROM cannot embed empty text (filter empty chunks out)`);
      return this.stripNewLines ? text.replace(/\n/g, ' ') : text;
    });
  }

  private async embedRemote({ client, model }: RemoteConnection, batch: string[]): Promise<Float32Array[]> {
    const request: Record<string, unknown> = { input: batch, encoding_format: this.encodingFormat };
    if (model) request.model = model;
    // Only our server knows `normalize`; send it only when it changes the default (unit vectors).
    if (!this.normalize) request.normalize = false;
    const body = await client.postJson('/v1/embeddings', request);
    const vectors = parseEmbeddingList(body, batch.length, `${client.baseUrl}/v1/embeddings`);
    // Unit length whatever the server did (OpenAI-compatible servers of other models may not).
    return this.normalize ? vectors.map(normalized) : vectors;
  }
}

/** `{data: [{index, embedding}]}` -> vectors in input order, checked against the request. */
function parseEmbeddingList(body: unknown, expected: number, url: string): Float32Array[] {
  const bad = (problem: string): never => {
    throw new CoromError(`${url} answered an unexpected embeddings response: ${problem}`);
  };
  const data = (body as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) return bad('no "data" array');
  if (data.length !== expected) bad(`${data.length} embeddings for ${expected} inputs`);
  const out = new Array<Float32Array | undefined>(expected);
  data.forEach((item: { index?: unknown; embedding?: unknown } | null, position) => {
    const index = item?.index ?? position;
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= expected || out[index]) bad(`data[${position}].index is ${String(index)}`);
    const embedding = item?.embedding;
    if (typeof embedding === 'string') {
      try {
        out[index as number] = decodeBase64Floats(embedding);
      } catch (err) {
        bad(`data[${position}].embedding: ${err instanceof Error ? err.message : String(err)}`);
      }
    } else if (Array.isArray(embedding) && embedding.every((x) => typeof x === 'number')) {
      out[index as number] = Float32Array.from(embedding as number[]);
    } else {
      bad(`data[${position}].embedding is neither a number array nor a base64 string`);
    }
  });
  const dims = out[0]!.length;
  if (dims === 0 || out.some((v) => v!.length !== dims)) bad('embeddings of different or zero lengths');
  return out as Float32Array[];
}
