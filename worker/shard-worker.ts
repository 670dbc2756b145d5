/**
 * A shard Worker: runs ONE layer shard of the R2 model (corom.json `shards.<MODEL_SHARDS>`, shard
 * SHARD_INDEX) in its own isolate, for the front Worker (worker/index.ts) that calls it over a
 * service binding. Each shard Worker is its own isolate with its own 128 MB, which is what lets
 * coROM-base int8 run at the edge at all (docs/edge-memory.md: ~110 MB per shard in two shards,
 * ~155 MB unsplit).
 *
 *   POST /run   one shard message in (src/runtime/shard-wire.ts), the next one out; headers as in
 *               worker/shard-protocol.ts. A batch over the set's recorded cap is refused (413).
 *   GET /ready  200 when it can run its shard: corom.json read and consistent with SHARD_INDEX,
 *               and its file loaded, or (before its first run) present in R2 at the recorded size
 *               (one R2 HEAD: /ready never loads it). 503 `shard_not_loadable` naming the shard
 *               and the R2 key otherwise; 409 when the x-corom-shard headers the front Worker
 *               sends name another shard (a binding to the wrong Worker). The front Worker's own
 *               /ready asks every shard this (worker/shard-chain.ts ShardChainModel.unavailable).
 *   GET /health what it runs, whether it is loaded, its WebAssembly memory.
 *
 * The shard is read from R2 (the front Worker's bucket and key prefix + the shard's `ortFile`) on
 * the first run, streamed chunk by chunk straight into onnxruntime-web's WebAssembly memory by the
 * low-memory loader (src/runtime/ort-web-low-memory.ts: no JS copy of the file, initializers kept
 * in place, memory grown once to the recorded need), and kept for the isolate's lifetime. Runs are
 * one at a time: one WebAssembly thread, and the recorded peak holds for one run of the cap.
 */
import * as ort from 'onnxruntime-web/wasm';
// Compiled by wrangler at deploy time (CompiledWasm rule): workerd cannot compile it at run time.
import ortWasmModule from 'onnxruntime-web/ort-wasm-simd-threaded.wasm';
import type { R2Bucket } from '@cloudflare/workers-types';

import { CoromError, ModelFileError } from '../src/errors.js';
import type { BucketLimits } from '../src/runtime/length-buckets.js';
import { createLowMemorySession, initializeOrt, type LowMemorySession } from '../src/runtime/ort-web-low-memory.js';
import { ortWebForWorkerd, type WorkerdOrt } from '../src/runtime/ort-web-workerd.js';
import { runShard, ShardInputError, type ShardInput } from '../src/runtime/shard-runner.js';
import { decodeWire, encodeEmbeddings, encodeHiddenState, largestShardInputBytes, ShardWireError, WIRE_CONTENT_TYPE } from '../src/runtime/shard-wire.js';
import type { ConvertedMetadata, ShardMetadata, ShardSet } from '../src/store/metadata.js';
import { parseShardWorkerConfig, type ShardWorkerConfig, type ShardWorkerVars } from './config.js';
import type { WaitUntil } from './env.js';
import { mb, shardSetLimits } from './memory-budget.js';
import { checkModelObject, r2Name, readShardSet, streamModelObject } from './model-files.js';
import { SHARD_FILE_HEADER, SHARD_HEADER, SHARD_READY_PATH, SHARD_RUN_PATH, SHARD_WEIGHTS_HEADER, shardErrorResponse } from './shard-protocol.js';
import { SharedOnce } from './shared-once.js';

export interface ShardWorkerEnv extends ShardWorkerVars {
  MODELS?: R2Bucket;
}

/** The Worker's settings, as scripts/edge-memory.ts measures them: memory over speed. */
const SESSION_OPTIONS = { executionProviders: ['wasm'], graphOptimizationLevel: 'all', enableCpuMemArena: false, enableMemPattern: false } as const;

interface Described {
  meta: ConvertedMetadata;
  set: ShardSet;
  shard: ShardMetadata;
  limits: BucketLimits;
}

interface Loaded extends Described {
  session: LowMemorySession;
  /** R2 stream + session creation. */
  sessionMs: number;
}

const log = (line: string): void => console.error(`corom shard worker: ${line}`);

/** One shard in this isolate: described, loaded once, run one batch at a time. */
export class ShardHost {
  private readonly description = new SharedOnce(() => this.readDescription());
  private readonly session = new SharedOnce(() => this.createSession());
  private queue: Promise<unknown> = Promise.resolve();
  private runs = 0;

  constructor(
    private readonly bucket: R2Bucket,
    readonly config: ShardWorkerConfig,
    private readonly runtime: () => WorkerdOrt,
  ) {}

  /** The shard's session, once loaded (does not start a load). */
  private get loaded(): Loaded | undefined {
    return this.session.value;
  }

  /** `shard k of N` for messages, once described. */
  private get name(): string {
    const d = this.loaded ?? this.description.value;
    return d ? `shard ${this.config.index + 1} of ${d.set.count} (${r2Name(`${this.config.prefix}${d.shard.ortFile}`)})` : `shard ${this.config.index + 1}`;
  }

  describe(): Promise<Described> {
    return this.description.get();
  }

  private async readDescription(): Promise<Described> {
    const { meta, set } = await readShardSet(this.bucket, this.config.prefix, this.config.dtype);
    const shard = set.shards[this.config.index];
    if (!shard) {
      throw new ModelFileError(r2Name(`${this.config.prefix}corom.json`), `the ${this.config.dtype} shard set has ${set.count} shards, this Worker is configured to run shard ${this.config.index + 1} (SHARD_INDEX)`);
    }
    return { meta, set, shard, limits: shardSetLimits(set, meta.maxLength) };
  }

  load(): Promise<Loaded> {
    return this.session.get();
  }

  private async createSession(): Promise<Loaded> {
    const described = await this.describe();
    const { shard } = described;
    const started = Date.now();
    const runtime = this.runtime();
    await initializeOrt(runtime);
    const key = `${this.config.prefix}${shard.ortFile!}`;
    const chunks = await streamModelObject(this.bucket, key, shard.ortBytes!);
    let session: LowMemorySession;
    try {
      session = await createLowMemorySession(runtime, chunks, {
        byteLength: shard.ortBytes!,
        ortFormat: true,
        ...(shard.edge?.reserveBytes ? { reserveBytes: shard.edge.reserveBytes } : {}),
        sessionOptions: { ...SESSION_OPTIONS },
      });
    } catch (error) {
      if (error instanceof CoromError) throw error;
      const reason = (error instanceof Error ? error.message : String(error)).split('\n')[0]!.slice(0, 300);
      throw new ModelFileError(r2Name(key), `onnxruntime-web cannot load it (${reason})`, { cause: error });
    }
    const loaded = Date.now();
    log(`loaded ${r2Name(key)} (${mb(shard.ortBytes!)}); WebAssembly memory ${mb(runtime.wasmMemoryBytes() ?? 0)}`);
    // In a deployed Worker the clock only advances on I/O: these may read 0 there.
    return { ...described, session, sessionMs: loaded - started };
  }

  /**
   * Answers POST /run. `keepAlive` is the request's waitUntil: the run is chained after the runs
   * before it, so it must finish even if its caller goes away (workerd would cancel it with the
   * request, and every later run waiting behind it would never start).
   */
  async run(request: Request, keepAlive: (work: Promise<unknown>) => void = () => {}): Promise<Response> {
    let described: Loaded;
    try {
      described = await this.load();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      log(`${this.name} cannot be loaded: ${message}`);
      return shardErrorResponse(503, 'shard_not_loadable', `${this.name} cannot be loaded: ${message}`);
    }
    const { set, shard, meta, limits } = described;
    if (request.headers.get(SHARD_HEADER) === null || request.headers.get(SHARD_FILE_HEADER) === null) {
      return shardErrorResponse(400, 'bad_shard_request', `a run names the shard it expects in ${SHARD_HEADER} (k/N) and ${SHARD_FILE_HEADER}`);
    }
    const mismatch = this.mismatch(request, described);
    if (mismatch) return mismatch;

    // A declared body past the largest message at the cap is refused before it is read: the
    // isolate's WebAssembly memory already holds the shard, its JS side has a few MB to spare.
    const largest = largestShardInputBytes(limits.maxBatchTokens, meta.hidden);
    const declared = Number(request.headers.get('content-length') ?? 0);
    if (declared > largest) {
      return shardErrorResponse(413, 'over_batch_cap', `a shard message of ${declared} bytes is over ${this.name}'s largest input at its cap (${largest} bytes); split it into smaller runs`);
    }
    let input: ShardInput;
    try {
      const message = decodeWire(new Uint8Array(await request.arrayBuffer()));
      if (message.kind === 'embeddings') throw new ShardWireError('a shard takes a token batch or a hidden state, not embeddings');
      input = message.kind === 'tokens' ? { tokens: message.tokens } : { hiddenState: message.hiddenState };
    } catch (error) {
      if (!(error instanceof ShardWireError)) throw error;
      return shardErrorResponse(400, 'bad_shard_input', error.message);
    }
    const { rows, width } = 'tokens' in input ? input.tokens : input.hiddenState;
    if (rows > limits.maxBatchSize || rows * width > limits.maxBatchTokens) {
      const cap = set.batchCap ? `its recorded batch cap of ${set.batchCap.rows} x ${set.batchCap.maxLength} tokens` : `${limits.maxBatchSize} x ${limits.maxBatchTokens} tokens (no batch cap recorded: scripts/edge-memory.ts --record sets one)`;
      return shardErrorResponse(413, 'over_batch_cap', `a batch of ${rows} x ${width} tokens is over ${this.name}'s cap: ${cap}; split it into smaller runs`);
    }

    // One run at a time: the measured peak is that of one run at the cap.
    const result = this.queue.then(() => runShard(described.session.session, shard, this.runtime().ort.Tensor as never, input));
    this.queue = result.catch(() => undefined);
    keepAlive(this.queue);
    try {
      const output = await result;
      this.runs++;
      const body = 'embeddings' in output ? encodeEmbeddings(output.embeddings, meta.hidden) : encodeHiddenState(output.hiddenState);
      return new Response(body, { headers: { 'content-type': WIRE_CONTENT_TYPE } });
    } catch (error) {
      if (error instanceof ShardInputError || error instanceof ShardWireError) return shardErrorResponse(400, 'bad_shard_input', error.message);
      const reason = (error instanceof Error ? error.message : String(error)).split('\n')[0]!.slice(0, 300);
      log(`${this.name} failed a run of ${rows} x ${width}: ${reason}`);
      return shardErrorResponse(500, 'shard_run_failed', `${this.name} failed a run of ${rows} x ${width} tokens: ${reason}`);
    }
  }

  /** 409 when the caller's headers (when sent) name another shard, or another upload of the model. */
  private mismatch(request: Request, { set, shard, meta }: Described): Response | undefined {
    const expected = `${shard.index + 1}/${set.count}`;
    const asked = request.headers.get(SHARD_HEADER);
    const file = request.headers.get(SHARD_FILE_HEADER);
    if ((asked !== null && asked !== expected) || (file !== null && file !== shard.ortFile)) {
      return shardErrorResponse(
        409,
        'shard_mismatch',
        `this Worker runs shard ${expected} (${shard.ortFile}, SHARD_INDEX=${shard.index + 1}) but was asked for shard ${asked} (${file}): check the service binding and SHARD_INDEX`,
      );
    }
    const weights = request.headers.get(SHARD_WEIGHTS_HEADER);
    if (weights && meta.weights?.sha256 && weights !== meta.weights.sha256) {
      return shardErrorResponse(409, 'shard_mismatch', `${this.name} was converted from other weights (sha256 ${meta.weights.sha256.slice(0, 12)}) than the caller's (${weights.slice(0, 12)}): upload the same folder for every Worker`);
    }
    return undefined;
  }

  /**
   * Answers GET /ready: whether a run would find its shard. Cheap on purpose (the front Worker
   * asks on its own /ready): corom.json is read once and kept, the file is checked with one R2
   * HEAD until it is loaded, and nothing is loaded here. A file that is there but that
   * onnxruntime-web cannot load shows up on the first run (and in /health's lastError).
   */
  async ready(request: Request): Promise<Response> {
    try {
      const described = await this.describe();
      const mismatch = this.mismatch(request, described);
      if (mismatch) return mismatch;
      const { set, shard } = described;
      if (!this.loaded) await checkModelObject(this.bucket, `${this.config.prefix}${shard.ortFile!}`, shard.ortBytes!);
      return Response.json({ status: 'ready', shard: shard.index + 1, of: set.count, loaded: this.loaded !== undefined });
    } catch (error) {
      const message = (error instanceof Error ? error.message : String(error)).split('\n')[0]!.slice(0, 300);
      return shardErrorResponse(503, 'shard_not_loadable', `${this.name} cannot be loaded: ${message}`);
    }
  }

  /** Answers GET /health. */
  health(): Record<string, unknown> {
    const runtime = this.loaded ? this.runtime() : undefined;
    const d = this.loaded;
    return {
      shard: this.config.index + 1,
      dtype: this.config.dtype,
      r2Prefix: this.config.prefix,
      loaded: d !== undefined,
      ...(d && {
        of: d.set.count,
        file: d.shard.ortFile,
        layers: d.shard.layers,
        batchLimits: d.limits,
        peakBytes: d.shard.edge?.peakBytes ?? null,
        reserveBytes: d.shard.edge?.reserveBytes ?? null,
        sessionMs: d.sessionMs,
      }),
      // The low-memory loader's two handles on ORT's internals, captured at initialization.
      emscriptenModule: runtime?.emscriptenModule() !== undefined,
      wasmMemoryBytes: runtime?.wasmMemoryBytes() ?? null,
      modelPointer: d?.session.modelPointer ?? null,
      runs: this.runs,
      ...(this.session.lastError ? { lastError: this.session.lastError } : {}),
    };
  }
}

/** The Worker: one ShardHost per isolate, built from the env on the first request. */
export function createShardWorker(runtime: () => WorkerdOrt = () => ortWebForWorkerd(ort, ortWasmModule)) {
  let host: ShardHost | undefined;
  return {
    async fetch(request: Request, env: ShardWorkerEnv, ctx: WaitUntil): Promise<Response> {
      try {
        host ??= new ShardHost(env.MODELS!, parseShardWorkerConfig(env, env.MODELS !== undefined), runtime);
      } catch (error) {
        if (!(error instanceof CoromError)) throw error;
        log(`configuration error: ${error.message}`);
        return shardErrorResponse(500, 'worker_misconfigured', `The shard Worker is misconfigured: ${error.message}`);
      }
      const url = new URL(request.url);
      if (url.pathname === SHARD_RUN_PATH && request.method === 'POST') {
        // The load is shared by the requests that wait for it: keep it alive past this one.
        ctx.waitUntil(host.load().catch(() => undefined));
        return host.run(request, (work) => ctx.waitUntil(work));
      }
      if (url.pathname === '/health' && request.method === 'GET') return Response.json(host.health());
      if (url.pathname === SHARD_READY_PATH && request.method === 'GET') return host.ready(request);
      return shardErrorResponse(404, 'not_found', `a shard Worker answers POST ${SHARD_RUN_PATH}, GET ${SHARD_READY_PATH} and GET /health`);
    },
  };
}

export default createShardWorker();
