/**
 * The R2 model answered in-isolate by its layer shards (MODEL_SHARDS): the front Worker tokenizes
 * and batches as always, then sends each run through the shard Workers in order over their service
 * bindings (SHARD_1 ... SHARD_N, each a worker/shard-worker.ts in its own isolate with its own
 * 128 MB): token batch -> shard 1 -> hidden state -> shard 2 -> ... -> embeddings.
 *
 * The front runs no shard itself. Shard 1 (embeddings + first layers) of coROM-base int8 peaks at
 * 109.3 MB at its 4 x 128 cap (docs/edge-memory.md), measured with nothing else in the isolate; the
 * front isolate also holds the app, the 21k-entry vocabulary, the request bodies and answers, so
 * it would sit at or over the 115 MB the caps are set to. Relaying costs one more internal hop of
 * a token batch (~9 bytes a token); the hidden state (1.6 MB at 4 x 128) passes through the front
 * as bytes, never decoded.
 *
 * Shard count, split points and the batch cap are corom.json's (`shards.<dtype>`): a request
 * larger than the cap becomes several runs (length buckets of at most the cap). A missing binding
 * or a shard that fails gives a ShardUnavailableError naming the shard, its R2 key and binding,
 * which the edge model answers as a 503. The front's /ready asks the same of every shard before
 * any request does (ShardChainModel.unavailable: the binding, then the shard Worker's GET /ready).
 */
import type { Fetcher, R2Bucket } from '@cloudflare/workers-types';

import type { Embedder } from '../src/engine/types.js';
import { CoromError, ModelFileError } from '../src/errors.js';
import { lengthBuckets, padBatch, type BucketLimits } from '../src/runtime/length-buckets.js';
import { decodeWire, encodeTokens, peekWire, ShardWireError, WIRE_CONTENT_TYPE } from '../src/runtime/shard-wire.js';
import { convertedKind, type ShardMetadata, type ShardSet } from '../src/store/metadata.js';
import { shardBindingName, type R2ModelConfig } from './config.js';
import { type InIsolateBackend, describedModel, type ModelCard } from './isolate-model.js';
import { MemoryBudgetError, shardBudgetRefusal, shardPeaks, shardSetLimits, type PeakMemory } from './memory-budget.js';
import { r2Name, readModelDescription } from './model-files.js';
import { SHARD_FILE_HEADER, SHARD_HEADER, SHARD_READY_PATH, SHARD_RUN_PATH, SHARD_WEIGHTS_HEADER, type ShardErrorBody } from './shard-protocol.js';
import { SharedOnce } from './shared-once.js';

/**
 * How the front's /ready asks the shard Workers. A shard that has not answered GET /ready within
 * `timeoutMs` is not ready (a load balancer's own probe deadline is a few seconds: the answer must
 * come before it). A good answer from every shard is trusted for `ttlMs`: a load balancer polling
 * /ready every second costs each shard Worker one GET /ready per ttl per front isolate, not one
 * per poll. A bad answer is not kept, so a shard that comes back is seen on the next poll.
 */
export interface ShardReadinessOptions {
  timeoutMs?: number;
  ttlMs?: number;
  now?: () => number;
}

export const SHARD_READY_TIMEOUT_MS = 3000;
export const SHARD_READY_TTL_MS = 5000;

export const shardsBackend = (count: number): string => `wasm-shards:${count}`;

/** A shard that cannot answer: the edge model turns it into a 503 naming the shard. */
export class ShardUnavailableError extends CoromError {
  constructor(message: string) {
    super(message);
    this.name = 'ShardUnavailableError';
  }
}

/** Service bindings by name, as the Worker's env has them. */
export type ShardBindings = Partial<Record<`SHARD_${number}`, Pick<Fetcher, 'fetch'>>>;

export class ShardChainModel implements InIsolateBackend {
  private readonly description = new SharedOnce(() => this.readCard());
  private set: ShardSet | undefined;
  private embedder: ShardChainEmbedder | undefined;
  /** When every shard last answered GET /ready with 200 (ShardReadinessOptions.ttlMs). */
  private readyAt: number | undefined;

  constructor(
    private readonly bucket: R2Bucket,
    readonly config: R2ModelConfig & { shards: NonNullable<R2ModelConfig['shards']> },
    private readonly budgetBytes: number,
    private readonly bindings: ShardBindings,
    private readonly readiness: ShardReadinessOptions = {},
  ) {}

  get id(): string {
    return this.config.id;
  }

  get backend(): string {
    return shardsBackend(this.set?.count ?? 0);
  }

  get card(): ModelCard | undefined {
    return this.description.value;
  }

  get loaded(): boolean {
    return this.embedder !== undefined;
  }

  describe(): Promise<ModelCard> {
    return this.description.get();
  }

  private async readCard(): Promise<ModelCard> {
    const { id, prefix, shards: dtype } = this.config;
    const description = await readModelDescription(this.bucket, prefix, dtype, { shards: true });
    if (convertedKind(description.meta) !== 'embedding') {
      // Layer shards are written for embedding models only (src/store/shards.ts).
      throw new ModelFileError(r2Name(`${prefix}corom.json`), `a ${convertedKind(description.meta)} model cannot be served from layer shards; set MODEL_SHARDS = "" to run it unsplit`);
    }
    const set = description.meta.shards![dtype]!;
    this.set = set;
    const peaks = shardPeaks(set);
    const largest = peaks.reduce((a, b) => (b.bytes > a.bytes ? b : a));
    const peak: PeakMemory = { ...largest, basis: `the largest of ${set.count} shards, each in its own isolate: ${largest.basis}` };
    const refusal = shardBudgetRefusal(id, set, this.budgetBytes);
    return {
      kind: 'embedding',
      ...describedModel(id, prefix, dtype, description),
      file: set.shards.map((s) => s.ortFile!).join(' + '),
      peak,
      ...(refusal ? { refusal } : {}),
    };
  }

  /** Ready when described, within budget and every shard has its binding (shards load on their first run). */
  async load(): Promise<Embedder> {
    if (this.embedder) return this.embedder;
    const card = await this.describe();
    if (card.refusal) throw new MemoryBudgetError(card.refusal);
    const set = this.set!;
    const links = this.links(set);
    const unbound = links.find((l) => typeof l === 'string');
    if (unbound !== undefined) throw new ShardUnavailableError(unbound);
    this.embedder = new ShardChainEmbedder(card, set, links as ShardLink[], this.config.prefix, shardSetLimits(set, card.meta.maxLength));
    return this.embedder;
  }

  /** Each shard's binding, or why it has none (the message of the 503 a run would get). */
  private links(set: ShardSet): (ShardLink | string)[] {
    return set.shards.map((shard) => {
      const binding = shardBindingName(shard.index);
      const fetcher = this.bindings[binding];
      if (fetcher) return { shard, binding, fetcher };
      return (
        `${describeShard(set, shard, this.config.prefix, binding)} is not reachable: this Worker has no service binding ${binding} ` +
        `(wrangler.toml [[services]] binding = "${binding}", the shard Worker of wrangler.shard.toml)`
      );
    });
  }

  /**
   * Why the shard Workers cannot answer right now, for the front's /ready (undefined: they can):
   * a missing binding, or a shard Worker that does not answer GET /ready in time (not deployed,
   * not running, its file missing from R2, a binding to the wrong shard), each named as a run's
   * 503 would name it. Costs no call while a good answer is fresh (ShardReadinessOptions).
   */
  async unavailable(): Promise<string | undefined> {
    const { timeoutMs = SHARD_READY_TIMEOUT_MS, ttlMs = SHARD_READY_TTL_MS, now = Date.now } = this.readiness;
    const card = await this.describe();
    const set = this.set!;
    const links = this.links(set);
    const unbound = links.filter((l) => typeof l === 'string');
    if (unbound.length > 0) return unbound.join('; ');
    if (this.readyAt !== undefined && now() - this.readyAt < ttlMs) return undefined;
    const reasons = await Promise.all((links as ShardLink[]).map((link) => this.askReady(set, link, card.meta.weights?.sha256, timeoutMs)));
    const failures = reasons.filter((r) => r !== undefined);
    if (failures.length > 0) {
      this.readyAt = undefined;
      return failures.join('; ');
    }
    this.readyAt = now();
    return undefined;
  }

  private async askReady(set: ShardSet, link: ShardLink, weightsSha: string | undefined, timeoutMs: number): Promise<string | undefined> {
    const name = describeShard(set, link.shard, this.config.prefix, link.binding);
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    // Raced as well as aborted: the deadline holds whether or not the binding honours the signal.
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => {
        controller.abort();
        resolve('timeout');
      }, timeoutMs);
    });
    try {
      const url = `https://shard${link.shard.index + 1}.internal${SHARD_READY_PATH}`;
      // The signal's type differs between the DOM lib and workers-types; at run time it is one object.
      const signal = controller.signal as never;
      const response = await Promise.race([link.fetcher.fetch(url, { headers: shardHeaders(set, link.shard, weightsSha), signal }), deadline]);
      if (response === 'timeout') return `${name} did not answer GET ${SHARD_READY_PATH} within ${timeoutMs} ms`;
      if (response.status === 200) {
        await response.arrayBuffer();
        return undefined;
      }
      return `${name} answered GET ${SHARD_READY_PATH} with HTTP ${response.status}: ${await errorReason(response)}`;
    } catch (error) {
      return `${name} did not answer GET ${SHARD_READY_PATH}: ${(error instanceof Error ? error.message : String(error)).split('\n')[0]}`;
    } finally {
      clearTimeout(timer);
    }
  }

  status(): Record<string, unknown> {
    const card = this.description.value;
    const set = this.set;
    return {
      id: this.config.id,
      r2Prefix: this.config.prefix,
      dtype: this.config.dtype,
      shards: set?.count ?? null,
      described: card !== undefined,
      loaded: this.embedder !== undefined,
      ...(card &&
        set && {
          file: card.file,
          peakBytes: card.peak.bytes,
          peakSource: card.peak.source,
          batchLimits: shardSetLimits(set, card.meta.maxLength),
          budgetBytes: this.budgetBytes,
          shardList: set.shards.map((s, i) => ({
            shard: s.index + 1,
            file: s.ortFile,
            layers: s.layers,
            binding: shardBindingName(s.index),
            bound: this.bindings[shardBindingName(s.index)] !== undefined,
            peakBytes: shardPeaks(set)[i]!.bytes,
          })),
          ...(card.refusal ? { refused: card.refusal } : {}),
        }),
      ...(this.embedder ? { runs: this.embedder.runs } : {}),
    };
  }
}

function describeShard(set: ShardSet, shard: ShardMetadata, prefix: string, binding: string): string {
  return `shard ${shard.index + 1} of ${set.count} (${r2Name(`${prefix}${shard.ortFile ?? shard.file}`)}, binding ${binding})`;
}

/** What every request to a shard Worker says it expects (worker/shard-protocol.ts). */
function shardHeaders(set: ShardSet, shard: ShardMetadata, weightsSha: string | undefined): Record<string, string> {
  return {
    [SHARD_HEADER]: `${shard.index + 1}/${set.count}`,
    [SHARD_FILE_HEADER]: shard.ortFile!,
    ...(weightsSha ? { [SHARD_WEIGHTS_HEADER]: weightsSha } : {}),
  };
}

/** The shard Worker's error message, else the first characters of whatever answered (a platform error page, say). */
async function errorReason(response: { text(): Promise<string> }): Promise<string> {
  const text = await response.text();
  try {
    return (JSON.parse(text) as ShardErrorBody).error.message ?? text.slice(0, 300);
  } catch {
    return text.slice(0, 300);
  }
}

interface ShardLink {
  shard: ShardMetadata;
  binding: string;
  fetcher: Pick<Fetcher, 'fetch'>;
}

/** Runs of at most the set's cap, each relayed through every shard Worker in order. */
export class ShardChainEmbedder implements Embedder {
  runs = 0;

  constructor(
    readonly card: ModelCard,
    private readonly set: ShardSet,
    private readonly links: readonly ShardLink[],
    private readonly prefix: string,
    readonly limits: BucketLimits,
  ) {}

  get info() {
    return this.card.info;
  }

  async embedTokens(inputs: readonly Int32Array[]): Promise<Float32Array[]> {
    const out = new Array<Float32Array>(inputs.length);
    for (const bucket of lengthBuckets(inputs.map((s) => s.length), this.limits)) {
      const vectors = await this.runChain(bucket.map((i) => inputs[i]!));
      bucket.forEach((index, row) => (out[index] = vectors[row]!));
    }
    return out;
  }

  private async runChain(sequences: Int32Array[]): Promise<Float32Array[]> {
    const hidden = this.card.meta.hidden;
    let message: Uint8Array = encodeTokens(padBatch(sequences));
    for (const link of this.links) {
      message = await this.call(link, message);
      const last = link === this.links.at(-1);
      const { kind, rows } = peekWire(message);
      const wanted = last ? 'embeddings' : 'hidden';
      if (kind !== wanted || rows !== sequences.length) {
        throw new ShardUnavailableError(`${this.name(link)} answered ${rows} rows of ${kind}, expected ${sequences.length} rows of ${wanted}`);
      }
    }
    const result = decodeWire(message);
    if (result.kind !== 'embeddings' || result.hidden !== hidden) {
      throw new ShardUnavailableError(`the last shard answered vectors of ${result.kind === 'embeddings' ? result.hidden : '?'} dimensions, the model has ${hidden}`);
    }
    this.runs++;
    return Array.from({ length: result.rows }, (_, r) => result.data.slice(r * hidden, (r + 1) * hidden));
  }

  private name(link: ShardLink): string {
    return describeShard(this.set, link.shard, this.prefix, link.binding);
  }

  private async call(link: ShardLink, body: Uint8Array): Promise<Uint8Array> {
    const headers = { 'content-type': WIRE_CONTENT_TYPE, ...shardHeaders(this.set, link.shard, this.card.meta.weights?.sha256) };
    let response;
    try {
      response = await link.fetcher.fetch(`https://shard${link.shard.index + 1}.internal${SHARD_RUN_PATH}`, { method: 'POST', headers, body });
    } catch (error) {
      throw new ShardUnavailableError(`${this.name(link)} did not answer: ${(error instanceof Error ? error.message : String(error)).split('\n')[0]}`);
    }
    if (response.status !== 200) throw new ShardUnavailableError(`${this.name(link)} failed (HTTP ${response.status}): ${await errorReason(response)}`);
    const bytes = new Uint8Array(await response.arrayBuffer());
    try {
      peekWire(bytes);
    } catch (error) {
      if (error instanceof ShardWireError) throw new ShardUnavailableError(`${this.name(link)} answered something that is not a shard message: ${error.message}`);
      throw error;
    }
    return bytes;
  }

  async close(): Promise<void> {}
}
