/**
 * One served embedding model and its queue: an EmbeddingRunner owns the model's dynamic batcher,
 * takes texts or token ids and gives back raw vectors, per-input token counts and the backend
 * labels of the batches that computed them, in request order. Failures are the core's typed errors
 * (./errors.ts), already naming the model; nothing here knows about HTTP.
 */
import { DynamicBatcher, type BatchReport, type BatcherConfig } from './batcher.js';
import { BatchedRunner, backendsInOrder, batcherOptions, type SubmitOptions } from './batched-runner.js';
import { TokenIdsNotSupportedError } from './errors.js';
import type { EmbeddingModel, TextModel, TokenModel } from './served-model.js';
import { completeSequences } from './token-input.js';

export interface EmbedResult {
  vectors: Float32Array[];
  /** Tokens per input after truncation, [CLS]/[SEP] included. */
  tokenCounts: number[];
  /** Backend labels of the batches that answered, each once, in order of first use (EmbeddedBatch.backend). */
  backends: string[];
}

/** How a token-id field was written: `input: [1, 2]` (not nested) or `input: [[1], [2]]` (nested). */
export interface TokenIdField {
  name: string;
  nested: boolean;
}

type Embedded = { vector: Float32Array; tokens: number; backend: string };

export class EmbeddingRunner extends BatchedRunner {
  readonly task = 'embedding' as const;
  readonly model: EmbeddingModel;
  private readonly tokenBatcher?: DynamicBatcher<Int32Array, Embedded>;
  private readonly textBatcher?: DynamicBatcher<string, Embedded>;

  constructor(model: EmbeddingModel, config: BatcherConfig, onBatch: (report: BatchReport) => void) {
    super();
    this.model = model;
    const owner = model.info.id;
    if (model.kind === 'tokens') {
      this.tokenBatcher = new DynamicBatcher<Int32Array, Embedded>(config, {
        run: (sequences) => embedTokenBatch(model, sequences),
        lengthOf: (sequence) => sequence.length,
        onBatch,
        owner,
      });
    } else {
      const maxLength = model.info.maxLength;
      this.textBatcher = new DynamicBatcher<string, Embedded>(config, {
        run: (texts) => embedTextBatch(model, texts),
        // The backend tokenizes; a character count bounded by the max length stands in for it.
        lengthOf: (text) => Math.min(text.length + 2, maxLength),
        onBatch,
        owner,
      });
    }
  }

  get id(): string {
    return this.model.info.id;
  }

  get acceptsTokenIds(): boolean {
    return this.model.kind === 'tokens';
  }

  protected get batcher(): DynamicBatcher<Int32Array, Embedded> | DynamicBatcher<string, Embedded> {
    return (this.tokenBatcher ?? this.textBatcher)!;
  }

  /** Complete sequences the model sees for these texts (token models only; `/tokenize`). `param` names the field blamed otherwise. */
  tokenize(texts: readonly string[], param: string): { ids: Int32Array; tokens: string[] }[] {
    const model = this.tokenModel(param);
    return model.tokenize(texts).map((ids) => ({ ids, tokens: model.tokenStrings(ids) }));
  }

  async embedTexts(texts: readonly string[], options: SubmitOptions): Promise<EmbedResult> {
    this.admitOrThrow();
    if (this.model.kind === 'tokens') {
      const sequences = this.model.tokenize(texts);
      return collect(await this.submit(this.tokenBatcher!, sequences, options));
    }
    return collect(await this.submit(this.textBatcher!, texts, options));
  }

  /** Token-id input: validated against the vocabulary (InvalidTokenIdError), wrapped in [CLS] ... [SEP], truncated. */
  async embedTokenIds(sequences: readonly (readonly number[])[], field: TokenIdField, options: SubmitOptions): Promise<EmbedResult> {
    const model = this.tokenModel(field.name);
    this.admitOrThrow();
    const param = (i: number): string => (field.nested ? `${field.name}[${i}]` : field.name);
    const complete = completeSequences(sequences, { vocabSize: model.info.vocabSize, maxLength: model.info.maxLength, cls: model.special.cls, sep: model.special.sep }, param);
    return collect(await this.submit(this.tokenBatcher!, complete, options));
  }

  private tokenModel(param: string): TokenModel {
    if (this.model.kind !== 'tokens') throw new TokenIdsNotSupportedError(this.id, param);
    return this.model;
  }

  private submit<I>(batcher: DynamicBatcher<I, Embedded>, items: readonly I[], options: SubmitOptions): Promise<Embedded[]> {
    return batcher.submit(items, batcherOptions(options));
  }
}

function collect(outputs: readonly Embedded[]): EmbedResult {
  return { vectors: outputs.map((o) => o.vector), tokenCounts: outputs.map((o) => o.tokens), backends: backendsInOrder(outputs) };
}

async function embedTokenBatch(model: TokenModel, sequences: Int32Array[]): Promise<Embedded[]> {
  const { vectors, backend } = await model.embedTokens(sequences);
  if (!Array.isArray(vectors) || vectors.length !== sequences.length) {
    throw new Error(`model ${model.info.id} returned ${Array.isArray(vectors) ? vectors.length : typeof vectors} vectors for ${sequences.length} sequences`);
  }
  return vectors.map((vector, i) => ({ vector, tokens: sequences[i]!.length, backend }));
}

async function embedTextBatch(model: TextModel, texts: string[]): Promise<Embedded[]> {
  const { vectors, tokenCounts, backend } = await model.embedTexts(texts);
  if (vectors.length !== texts.length || tokenCounts.length !== texts.length) {
    throw new Error(`model ${model.info.id} returned ${vectors.length} vectors / ${tokenCounts.length} token counts for ${texts.length} texts`);
  }
  return vectors.map((vector, i) => ({ vector, tokens: tokenCounts[i]!, backend }));
}
