/**
 * The core between routes and a backend: one ModelRunner per served model owns its dynamic
 * batcher and turns batcher failures into the service's HTTP errors. Routes hand it texts or
 * token ids and get raw vectors plus per-input token counts back, in request order.
 */
import { BackendUnavailableError } from '../errors.js';
import { ApiError, clientClosedRequest, invalidParam } from './api-error.js';
import { BatchFailedError, DynamicBatcher, QueueFullError, QueueTimeoutError, RequestAbortedError, type BatchReport, type BatcherConfig } from './batcher.js';
import type { ServedModel, TextModel, TokenModel } from '../core/served-model.js';
import { completeSequences } from './token-input.js';

export interface EmbedResult {
  vectors: Float32Array[];
  /** Tokens per input after truncation, [CLS]/[SEP] included. */
  tokenCounts: number[];
  /** Backend labels of the batches that computed these vectors (EmbeddedBatch.backend), each once. */
  backends: string[];
}

export interface SubmitOptions {
  timeoutMs: number;
  requestId: string;
  /** The request's signal: when its client goes away, its queued work is dropped. */
  signal?: AbortSignal;
}

type TextOutput = { vector: Float32Array; tokens: number; backend: string };
type TokenOutput = { vector: Float32Array; backend: string };

function labels(outputs: readonly { backend: string }[]): string[] {
  return [...new Set(outputs.map((o) => o.backend))];
}

export class ModelRunner {
  readonly model: ServedModel;
  /** Unix seconds when the model was put in service (OpenAI's `created`). */
  readonly created = Math.floor(Date.now() / 1000);
  private readonly tokenBatcher?: DynamicBatcher<Int32Array, TokenOutput>;
  private readonly textBatcher?: DynamicBatcher<string, TextOutput>;

  constructor(model: ServedModel, config: BatcherConfig, onBatch: (report: BatchReport) => void) {
    this.model = model;
    if (model.kind === 'tokens') {
      this.tokenBatcher = new DynamicBatcher<Int32Array, TokenOutput>(config, {
        run: async (sequences) => {
          const { vectors, backend } = await model.embedTokens(sequences);
          return vectors.map((vector) => ({ vector, backend }));
        },
        lengthOf: (sequence) => sequence.length,
        onBatch,
      });
    } else {
      const maxLength = model.info.maxLength;
      this.textBatcher = new DynamicBatcher<string, TextOutput>(config, {
        run: (texts) => embedTextBatch(model, texts),
        // The backend tokenizes; a character count bounded by the max length stands in for it.
        lengthOf: (text) => Math.min(text.length + 2, maxLength),
        onBatch,
      });
    }
  }

  get id(): string {
    return this.model.info.id;
  }

  get acceptsTokenIds(): boolean {
    return this.model.kind === 'tokens';
  }

  /** True when a request would be refused with 429 now; checked before tokenizing, which is wasted work then. */
  get full(): boolean {
    return (this.tokenBatcher ?? this.textBatcher)?.full ?? false;
  }

  /** The 429 of a full queue. */
  overloaded(): ApiError {
    const maxQueue = (this.tokenBatcher ?? this.textBatcher)!.config.maxQueue;
    return new ApiError(429, `Model '${this.id}' is overloaded: ${maxQueue} requests are already queued. Retry after a short wait.`, {
      code: 'queue_full',
      headers: { 'Retry-After': '1' },
    });
  }

  get queue(): { sequences: number; requests: number } {
    const batcher = this.tokenBatcher ?? this.textBatcher;
    return { sequences: batcher?.queuedSequences ?? 0, requests: batcher?.pendingRequests ?? 0 };
  }

  /** Complete sequences the model sees for these texts (token models only; `/tokenize`). */
  tokenize(texts: readonly string[], param: string): { ids: Int32Array; tokens: string[] }[] {
    const model = this.tokenModel(param);
    return model.tokenize(texts).map((ids) => ({ ids, tokens: model.tokenStrings(ids) }));
  }

  async embedTexts(texts: readonly string[], options: SubmitOptions): Promise<EmbedResult> {
    if (this.full) throw this.overloaded();
    if (this.model.kind === 'tokens') {
      const sequences = this.model.tokenize(texts);
      const outputs = await this.submit(this.tokenBatcher!, sequences, options);
      return { vectors: outputs.map((o) => o.vector), tokenCounts: sequences.map((s) => s.length), backends: labels(outputs) };
    }
    const outputs = await this.submit(this.textBatcher!, texts, options);
    return { vectors: outputs.map((o) => o.vector), tokenCounts: outputs.map((o) => o.tokens), backends: labels(outputs) };
  }

  /** Token-id input: validated against the vocabulary, wrapped in [CLS] ... [SEP], truncated. */
  async embedTokenIds(sequences: readonly (readonly number[])[], field: { name: string; nested: boolean }, options: SubmitOptions): Promise<EmbedResult> {
    const model = this.tokenModel(field.name);
    if (this.full) throw this.overloaded();
    const param = (i: number): string => (field.nested ? `${field.name}[${i}]` : field.name);
    const complete = completeSequences(sequences, { vocabSize: model.info.vocabSize, maxLength: model.info.maxLength, cls: model.special.cls, sep: model.special.sep }, param);
    const outputs = await this.submit(this.tokenBatcher!, complete, options);
    return { vectors: outputs.map((o) => o.vector), tokenCounts: complete.map((s) => s.length), backends: labels(outputs) };
  }

  private tokenModel(param: string): TokenModel {
    if (this.model.kind !== 'tokens') {
      throw invalidParam(param, `model '${this.id}' takes text only (its backend does not expose token ids); send strings`, 'token_ids_not_supported');
    }
    return this.model;
  }

  private async submit<I, O>(batcher: DynamicBatcher<I, O>, items: readonly I[], options: SubmitOptions): Promise<O[]> {
    try {
      return await batcher.submit(items, { timeoutMs: options.timeoutMs, tag: options.requestId, ...(options.signal ? { signal: options.signal } : {}) });
    } catch (err) {
      if (err instanceof QueueFullError) throw this.overloaded();
      if (err instanceof RequestAbortedError) throw clientClosedRequest();
      if (err instanceof QueueTimeoutError) {
        throw new ApiError(503, `Model '${this.id}' did not answer within ${err.timeoutMs} ms (the server is busy). Retry later or send fewer inputs.`, {
          type: 'timeout_error',
          code: 'request_timeout',
          headers: { 'Retry-After': '1' },
        });
      }
      if (err instanceof BatchFailedError && err.cause instanceof BackendUnavailableError) {
        // The backend says why it cannot compute (e.g. over a Worker's memory budget): a 503 with that reason.
        throw new ApiError(503, `Model '${this.id}' is unavailable: ${err.cause.message}`, {
          code: err.cause.code,
          headers: { 'Retry-After': String(err.cause.retryAfterSeconds) },
        });
      }
      if (err instanceof BatchFailedError) {
        throw new ApiError(500, `Inference failed for this request (request id ${options.requestId}). Other requests are unaffected; retrying may succeed.`, {
          code: 'inference_failed',
        });
      }
      throw err;
    }
  }
}

async function embedTextBatch(model: TextModel, texts: string[]): Promise<TextOutput[]> {
  const { vectors, tokenCounts, backend } = await model.embedTexts(texts);
  if (vectors.length !== texts.length || tokenCounts.length !== texts.length) {
    throw new Error(`model ${model.info.id} returned ${vectors.length} vectors / ${tokenCounts.length} token counts for ${texts.length} texts`);
  }
  return vectors.map((vector, i) => ({ vector, tokens: tokenCounts[i], backend }));
}
