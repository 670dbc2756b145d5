/**
 * The R2 model inside this isolate: its description (corom.json, vocabulary) read on first use,
 * and its onnxruntime-web session created only when a request has to be answered in the isolate
 * and the artifact fits the memory budget. Both are kept for the isolate's lifetime; a failed
 * read or load is retried by the next request that needs it.
 */
// 'onnxruntime-web/wasm' resolves (package "exports", import/default condition) to
// dist/ort.wasm.bundle.min.mjs: the CPU-only build whose Emscripten glue is embedded in the bundle,
// so ORT never `import()`s a glue file by URL (workerd has no import.meta.url to resolve it from).
// Its binary is dist/ort-wasm-simd-threaded.wasm (~14 MB, ~3.7 MB gzipped); the JSEP/WebGPU
// variants are twice the size and need APIs workerd lacks.
import * as ort from 'onnxruntime-web/wasm';
// Compiled by wrangler at deploy time (CompiledWasm rule): workerd cannot compile it at run time.
import ortWasmModule from 'onnxruntime-web/ort-wasm-simd-threaded.wasm';
import type { R2Bucket } from '@cloudflare/workers-types';

import type { Dtype, Embedder, ModelInfo, ModelKind, PairScorer, RankerInfo } from '../src/engine/types.js';
import { CoromError, ModelFileError } from '../src/errors.js';
import { convertedKind, type ConvertedMetadata } from '../src/store/metadata.js';
import { OrtEmbedder } from '../src/runtime/ort-embedder.js';
import { OrtPairScorer } from '../src/runtime/ort-pair-scorer.js';
import { ortWebForWorkerd, type OrtSessionOptions, type WorkerdOrt } from '../src/runtime/ort-web-workerd.js';
import { WordPieceTokenizer } from '../src/tokenizer/wordpiece.js';
import type { R2ModelConfig } from './config.js';
import { budgetRefusal, isolateBatchLimits, MemoryBudgetError, peakMemory, type PeakMemory } from './memory-budget.js';
import { r2Name, readModelArtifact, readModelDescription, type ModelDescription } from './model-files.js';
import { SharedOnce } from './shared-once.js';

/** What the isolate knows about the model before (and without) running it. */
export interface ModelCard {
  /** corom.json `task`: an embedding model (bi-encoder) or a rerank model (cross-encoder). */
  kind: ModelKind;
  /** For a rerank model, `dimensions` is its hidden size (the same encoder shape; see rankerInfo). */
  info: ModelInfo;
  tokenizer: WordPieceTokenizer;
  meta: ConvertedMetadata;
  /** The artifact the in-isolate backend runs, e.g. model.q4.onnx (+ model.q4.onnx.data). */
  file: string;
  externalData?: string;
  peak: PeakMemory;
  /** Why the in-isolate backend will not load it (over the memory budget), if it will not. */
  refusal?: string;
}

/**
 * What the edge model (worker/edge-model.ts) needs from the in-isolate path of the R2 model: the
 * whole model in this isolate (IsolateModel) or its layer shards in shard Workers
 * (worker/shard-chain.ts).
 */
export interface InIsolateBackend {
  readonly id: string;
  /** `x-corom-backend` of its answers: `wasm`, `wasm-shards:<N>`. */
  readonly backend: string;
  describe(): Promise<ModelCard>;
  /** The description if already read (does not start a read). */
  readonly card: ModelCard | undefined;
  readonly loaded: boolean;
  /** Ready to compute; MemoryBudgetError when it does not fit, another CoromError when it cannot load. */
  load(): Promise<Embedder | PairScorer>;
  /**
   * Why it cannot answer right now beyond the memory budget, for /ready (undefined: it can). The
   * shard chain asks its shard Workers; the whole model in this isolate has nothing more to check.
   */
  unavailable?(): Promise<string | undefined>;
  /** For /info. */
  status(): Record<string, unknown>;
}

export interface LoadTimings {
  /** Reading the artifact from R2. */
  r2Ms: number;
  /** onnxruntime-web initialization (first time) and session creation. */
  sessionMs: number;
}

export const WASM_BACKEND_LABEL = 'onnxruntime-web/wasm (workerd)';

/** The session the isolate runs: an embedder, or a pair scorer for a rerank model. */
export type IsolateBackend = Embedder | PairScorer;

/** A rerank model's description as the engine's Ranker wants it. */
export function rankerInfo(card: ModelCard): RankerInfo {
  const { id, maxLength, dtype, backend, vocabSize } = card.info;
  return { id, kind: 'rerank', hidden: card.meta.hidden, maxLength, dtype, backend, vocabSize };
}

// ORT's WebAssembly runtime is one per isolate.
let runtime: WorkerdOrt | undefined;

/** Bytes of onnxruntime-web's WebAssembly memory (its peak: it never shrinks), once a session exists. */
export function wasmMemoryBytes(): number | undefined {
  return runtime?.wasmMemoryBytes();
}

export class IsolateModel implements InIsolateBackend {
  readonly backend = 'wasm';
  private readonly description = new SharedOnce(() => this.readCard());
  private readonly session = new SharedOnce(() => this.createEmbedder());
  private timings: LoadTimings | undefined;
  /** Sessions created (1 in a healthy isolate; more only after failed loads were retried). */
  private sessions = 0;

  constructor(
    private readonly bucket: R2Bucket,
    readonly config: R2ModelConfig,
    private readonly budgetBytes: number,
  ) {}

  get id(): string {
    return this.config.id;
  }

  /** The model's description, read from R2 once. */
  describe(): Promise<ModelCard> {
    return this.description.get();
  }

  /** The description if already read (does not start a read). */
  get card(): ModelCard | undefined {
    return this.description.value;
  }

  get loaded(): boolean {
    return this.session.value !== undefined;
  }

  /** The session, created once; MemoryBudgetError when the artifact does not fit. */
  load(): Promise<IsolateBackend> {
    return this.session.get();
  }

  /** For /health and /info. */
  status(): Record<string, unknown> {
    const card = this.description.value;
    return {
      id: this.config.id,
      r2Prefix: this.config.prefix,
      dtype: this.config.dtype,
      described: card !== undefined,
      loaded: this.loaded,
      ...(card && {
        file: card.file,
        ...(card.externalData ? { externalData: card.externalData } : {}),
        artifactBytes: card.meta.dtypes[this.config.dtype]!.bytes,
        peakBytes: card.peak.bytes,
        peakSource: card.peak.source,
        batchLimits: isolateBatchLimits(card.meta, this.config.dtype),
        budgetBytes: this.budgetBytes,
        ...(card.refusal ? { refused: card.refusal } : {}),
      }),
      sessions: this.sessions,
      ...(this.timings ? { loadTimings: this.timings } : {}),
      ...(this.session.lastError ? { lastLoadError: this.session.lastError } : {}),
    };
  }

  private async readCard(): Promise<ModelCard> {
    const { id, prefix, dtype } = this.config;
    const description = await readModelDescription(this.bucket, prefix, dtype);
    const entry = description.meta.dtypes[dtype]!;
    const peak = peakMemory(description.meta, dtype);
    const refusal = budgetRefusal(id, entry.file, peak, this.budgetBytes);
    return {
      kind: convertedKind(description.meta),
      ...describedModel(id, prefix, dtype, description),
      file: entry.file,
      ...(entry.externalData ? { externalData: entry.externalData } : {}),
      peak,
      ...(refusal ? { refusal } : {}),
    };
  }

  private async createEmbedder(): Promise<IsolateBackend> {
    const card = await this.describe();
    if (card.refusal) throw new MemoryBudgetError(card.refusal);
    const { prefix, dtype } = this.config;
    const started = Date.now();
    // Only local variables hold the artifact: once ORT has copied it into WebAssembly memory the
    // JS copy is garbage, which matters when both share 128 MB.
    const artifact = await readModelArtifact(this.bucket, prefix, card.meta, dtype);
    const read = Date.now();
    runtime ??= ortWebForWorkerd(ort, ortWasmModule);
    const options: OrtSessionOptions = {
      executionProviders: ['wasm'],
      graphOptimizationLevel: 'all',
      // Memory over speed, as scripts/edge-memory.ts measures (`lowMemory`): no CPU arena (freed
      // tensors go back to the WASM heap), no memory pattern (no block planned for all intermediates).
      enableCpuMemArena: false,
      enableMemPattern: false,
      ...(artifact.externalData ? { externalData: [artifact.externalData] } : {}),
    };
    let session;
    try {
      session = await runtime.createSession(artifact.model, options);
    } catch (error) {
      // The adapter's own errors (ORT cannot initialize here) are not a problem of the model file.
      if (error instanceof CoromError) throw error;
      const reason = (error instanceof Error ? error.message : String(error)).split('\n')[0]!.slice(0, 300);
      throw new ModelFileError(r2Name(`${prefix}${card.file}`), `onnxruntime-web cannot load it (${reason})`, { cause: error });
    }
    // In a deployed Worker the clock only advances on I/O, so sessionMs may read 0 there; the
    // client-side cold-start figure in docs/edge.md is the one to trust.
    this.timings = { r2Ms: read - started, sessionMs: Date.now() - read };
    this.sessions++;
    const limits = isolateBatchLimits(card.meta, dtype);
    if (card.kind === 'rerank') return new OrtPairScorer(rankerInfo(card), session, ort.Tensor, limits);
    return new OrtEmbedder(card.info, session, ort.Tensor, limits);
  }
}

/** The info and tokenizer of a described R2 model (whole or sharded). */
export function describedModel(id: string, prefix: string, dtype: Dtype, description: ModelDescription): Pick<ModelCard, 'info' | 'tokenizer' | 'meta'> {
  const { meta } = description;
  const tokenizer = WordPieceTokenizer.fromVocabText(description.vocabText, {
    ...doLowerCaseOption(description.tokenizerConfig),
    source: r2Name(`${prefix}vocab.txt`),
  });
  if (tokenizer.vocabSize > meta.vocabSize) {
    throw new ModelFileError(r2Name(`${prefix}vocab.txt`), `has ${tokenizer.vocabSize} tokens but the model's embedding table has ${meta.vocabSize} rows`);
  }
  return {
    info: {
      id,
      dimensions: meta.hidden,
      maxLength: Math.min(meta.maxLength, meta.maxPositions),
      pooling: meta.pooling,
      dtype,
      backend: WASM_BACKEND_LABEL,
      vocabSize: meta.vocabSize,
    },
    tokenizer,
    meta,
  };
}

/** Hugging Face's tokenizer_config.json `do_lower_case`; absent means the BertTokenizer default. */
function doLowerCaseOption(config: Record<string, unknown> | undefined): { doLowerCase?: boolean } {
  const value = config?.['do_lower_case'];
  return typeof value === 'boolean' ? { doLowerCase: value } : {};
}
