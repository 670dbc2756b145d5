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
 * which the edge model answers as a 503.
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
import { SHARD_FILE_HEADER, SHARD_HEADER, SHARD_RUN_PATH, SHARD_WEIGHTS_HEADER, type ShardErrorBody } from './shard-protocol.js';

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
  private describing: Promise<ModelCard> | undefined;
  private described: ModelCard | undefined;
  private set: ShardSet | undefined;
  private embedder: ShardChainEmbedder | undefined;

  constructor(
    private readonly bucket: R2Bucket,
    readonly config: R2ModelConfig & { shards: NonNullable<R2ModelConfig['shards']> },
    private readonly budgetBytes: number,
    private readonly bindings: ShardBindings,
  ) {}

  get id(): string {
    return this.config.id;
  }

  get backend(): string {
    return shardsBackend(this.set?.count ?? 0);
  }

  get card(): ModelCard | undefined {
    return this.described;
  }

  get loaded(): boolean {
    return this.embedder !== undefined;
  }

  describe(): Promise<ModelCard> {
    this.describing ??= this.readCard().then(
      (card) => (this.described = card),
      (error: unknown) => {
        this.describing = undefined;
        throw error;
      },
    );
    return this.describing;
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
    const links = set.shards.map((shard) => {
      const binding = shardBindingName(shard.index);
      const fetcher = this.bindings[binding];
      if (!fetcher) {
        throw new ShardUnavailableError(
          `${describeShard(set, shard, this.config.prefix, binding)} is not reachable: this Worker has no service binding ${binding} ` +
            `(wrangler.toml [[services]] binding = "${binding}", the shard Worker of wrangler.shard.toml)`,
        );
      }
      return { shard, binding, fetcher };
    });
    this.embedder = new ShardChainEmbedder(card, set, links, this.config.prefix, shardSetLimits(set, card.meta.maxLength));
    return this.embedder;
  }

  status(): Record<string, unknown> {
    const card = this.described;
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
    const headers: Record<string, string> = {
      'content-type': WIRE_CONTENT_TYPE,
      [SHARD_HEADER]: `${link.shard.index + 1}/${this.set.count}`,
      [SHARD_FILE_HEADER]: link.shard.ortFile!,
    };
    const sha = this.card.meta.weights?.sha256;
    if (sha) headers[SHARD_WEIGHTS_HEADER] = sha;
    let response;
    try {
      response = await link.fetcher.fetch(`https://shard${link.shard.index + 1}.internal${SHARD_RUN_PATH}`, { method: 'POST', headers, body });
    } catch (error) {
      throw new ShardUnavailableError(`${this.name(link)} did not answer: ${(error instanceof Error ? error.message : String(error)).split('\n')[0]}`);
    }
    if (response.status !== 200) {
      const text = await response.text();
      let reason = text.slice(0, 300);
      try {
        reason = (JSON.parse(text) as ShardErrorBody).error.message ?? reason;
      } catch {
        // Not the shard Worker's JSON error (a platform error page, say): its first characters.
      }
      throw new ShardUnavailableError(`${this.name(link)} failed (HTTP ${response.status}): ${reason}`);
    }
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
