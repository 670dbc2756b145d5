/**
 * Reads a converted model folder from the Worker's R2 bucket, in two steps: the small files that
 * describe the model (corom.json, vocab.txt, optional tokenizer_config.json) on first use, and the
 * ONNX artifact (model.<dtype>.onnx plus its external data file, if any) only when the in-isolate
 * backend has to run it. Keys are what `corom upload-r2` writes: models/<model id>/<file>.
 */
import type { R2Bucket, R2ObjectBody } from '@cloudflare/workers-types';
import { z } from 'zod';

import type { Dtype } from '../src/engine/types.js';
import { ModelFileError } from '../src/errors.js';
// The model store's contract (src/store/metadata.ts is pure: no node:fs, safe in the Worker).
import type { ConvertedMetadata, ShardSet } from '../src/store/metadata.js';

export interface ModelDescription {
  meta: ConvertedMetadata;
  vocabText: string;
  /** Parsed tokenizer_config.json, when the folder has one. */
  tokenizerConfig?: Record<string, unknown>;
}

export interface ModelArtifact {
  /** The ONNX graph (with the weights inside, unless `externalData` is set). */
  model: Uint8Array;
  /** ONNX external data, under the file name the graph refers to. */
  externalData?: { path: string; data: Uint8Array };
}

const edgeSchema = z.object({
  dtype: z.enum(['fp32', 'int8', 'q4']),
  peakBytes: z.number().positive(),
  wasmBytes: z.number().nonnegative(),
  jsBytes: z.number().nonnegative(),
  batchRows: z.number().int().positive(),
  maxLength: z.number().int().positive(),
});

const shardTensorSchema = z.object({ name: z.string(), type: z.enum(['int64', 'float32']), shape: z.array(z.union([z.number(), z.string()])) });

/** corom.json `shards.<dtype>` (src/store/shard-metadata.ts), checked before the Worker trusts it. */
const shardSetSchema = z.object({
  dtype: z.enum(['fp32', 'int8', 'q4']),
  count: z.number().int().positive(),
  batchCap: z.object({ rows: z.number().int().positive(), maxLength: z.number().int().positive() }).optional(),
  shards: z.array(
    z.object({
      index: z.number().int().nonnegative(),
      file: z.string().min(1),
      bytes: z.number().int().nonnegative(),
      ortFile: z.string().min(1).optional(),
      ortBytes: z.number().int().nonnegative().optional(),
      layers: z.tuple([z.number().int().nonnegative(), z.number().int().positive()]),
      inputs: z.array(shardTensorSchema),
      outputs: z.array(shardTensorSchema),
      edge: z
        .object({
          peakBytes: z.number().positive(),
          wasmBytes: z.number().nonnegative(),
          jsBytes: z.number().nonnegative(),
          batchRows: z.number().int().positive(),
          maxLength: z.number().int().positive(),
          reserveBytes: z.number().nonnegative(),
        })
        .optional(),
    }),
  ),
});

const metadataSchema = z
  .object({
    format: z.literal(1),
    hidden: z.number().int().positive(),
    layers: z.number().int().positive(),
    heads: z.number().int().positive(),
    intermediate: z.number().int().positive(),
    vocabSize: z.number().int().positive(),
    maxPositions: z.number().int().positive(),
    maxLength: z.number().int().positive(),
    pooling: z.enum(['cls', 'mean']),
    source: z.string().optional(),
    dtypes: z.record(
      z.string(),
      z.object({ file: z.string().min(1), bytes: z.number().int().nonnegative(), externalData: z.string().min(1).optional() }),
    ),
    edge: edgeSchema.optional(),
    shards: z.record(z.string(), shardSetSchema).optional(),
  })
  .loose();

export function r2Name(key: string): string {
  return `r2://MODELS/${key}`;
}

/**
 * corom.json, vocab.txt and tokenizer_config.json; `prefix` is "" or ends in "/". With
 * `shards: true` the folder must hold a shard set of `dtype` (corom.json `shards.<dtype>`) instead
 * of the whole model.
 */
export async function readModelDescription(bucket: R2Bucket, prefix: string, dtype: Dtype, options: { shards?: boolean } = {}): Promise<ModelDescription> {
  const metaKey = `${prefix}corom.json`;
  const [metaText, vocabText, tokenizerConfigText] = await Promise.all([
    readText(bucket, metaKey),
    readText(bucket, `${prefix}vocab.txt`),
    readOptionalText(bucket, `${prefix}tokenizer_config.json`),
  ]);
  const parsed = metadataSchema.safeParse(parseJson(metaText, metaKey));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ModelFileError(r2Name(metaKey), `not a corom.json this version understands (${issue ? `${issue.path.join('.')}: ${issue.message}` : 'invalid'})`);
  }
  const meta = parsed.data as ConvertedMetadata;
  if (options.shards) {
    checkShardSet(meta, dtype, r2Name(metaKey));
  } else if (meta.dtypes[dtype] === undefined) {
    throw new ModelFileError(
      r2Name(metaKey),
      `the folder has no ${dtype} model (has: ${Object.keys(meta.dtypes).join(', ') || 'none'}); set MODEL_DTYPE or upload model.${dtype}.onnx`,
    );
  }
  const configKey = `${prefix}tokenizer_config.json`;
  return {
    meta,
    vocabText,
    ...(tokenizerConfigText !== undefined ? { tokenizerConfig: asObject(parseJson(tokenizerConfigText, configKey), configKey) } : {}),
  };
}

/** The ONNX graph and its external data, checked against the byte count corom.json records. */
export async function readModelArtifact(bucket: R2Bucket, prefix: string, meta: ConvertedMetadata, dtype: Dtype): Promise<ModelArtifact> {
  const entry = meta.dtypes[dtype]!;
  const modelKey = `${prefix}${entry.file}`;
  if (entry.externalData !== undefined && (entry.externalData.includes('/') || entry.externalData.includes('..'))) {
    throw new ModelFileError(r2Name(`${prefix}corom.json`), `external data "${entry.externalData}" must be a file name in the same folder`);
  }
  const dataKey = entry.externalData !== undefined ? `${prefix}${entry.externalData}` : undefined;
  const [model, data] = await Promise.all([readBytes(bucket, modelKey), dataKey !== undefined ? readBytes(bucket, dataKey) : undefined]);
  const total = model.byteLength + (data?.byteLength ?? 0);
  if (total !== entry.bytes) {
    const what = data ? `${entry.file} + ${entry.externalData} have ${total} bytes together` : `has ${total} bytes`;
    throw new ModelFileError(r2Name(modelKey), `${what} but corom.json records ${entry.bytes}; upload the folder again`);
  }
  return { model, ...(data && entry.externalData ? { externalData: { path: entry.externalData, data } } : {}) };
}

/** corom.json alone, checked, with its shard set of `dtype` (what a shard Worker needs). */
export async function readShardSet(bucket: R2Bucket, prefix: string, dtype: Dtype): Promise<{ meta: ConvertedMetadata; set: ShardSet }> {
  const metaKey = `${prefix}corom.json`;
  const parsed = metadataSchema.safeParse(parseJson(await readText(bucket, metaKey), metaKey));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ModelFileError(r2Name(metaKey), `not a corom.json this version understands (${issue ? `${issue.path.join('.')}: ${issue.message}` : 'invalid'})`);
  }
  const meta = parsed.data as ConvertedMetadata;
  checkShardSet(meta, dtype, r2Name(metaKey));
  return { meta, set: meta.shards![dtype]! };
}

/** The shard set of `dtype` is there, in order, complete and in ORT format (what the shard Workers load). */
function checkShardSet(meta: ConvertedMetadata, dtype: Dtype, where: string): void {
  const set = meta.shards?.[dtype];
  if (!set) {
    const has = Object.keys(meta.shards ?? {});
    throw new ModelFileError(
      where,
      `has no ${dtype} shard set (shard sets: ${has.join(', ') || 'none'}); set MODEL_SHARDS, or convert with \`corom convert --dtype ${dtype} --shards N --ort-format\` and upload it`,
    );
  }
  if (set.dtype !== dtype || set.count !== set.shards.length || set.shards.some((s, i) => s.index !== i)) {
    throw new ModelFileError(where, `shards.${dtype} is inconsistent (count ${set.count}, ${set.shards.length} shards listed in order ${set.shards.map((s) => s.index).join(',')})`);
  }
  for (const shard of set.shards) {
    if (!shard.ortFile || shard.ortBytes === undefined) {
      throw new ModelFileError(where, `shard ${shard.index + 1} of ${set.count} (${shard.file}) has no ORT-format file; convert with --ort-format (the shard Workers load ORT format)`);
    }
    if (shard.ortFile.includes('/') || shard.ortFile.includes('..')) throw new ModelFileError(where, `shard file "${shard.ortFile}" must be a file name in the same folder`);
  }
}

/** The read size of streamModelObject's one reused buffer. */
export const MODEL_CHUNK_BYTES = 1 << 20;

/**
 * An R2 object's bytes as they arrive, after checking its size: the shard Worker copies each chunk
 * straight into WebAssembly memory, so no JS copy of the whole file ever exists. Each chunk is valid
 * only until the next one is asked for: the body is read with a BYOB reader into ONE reused 1 MB
 * buffer. (With the default reader every chunk is a new ArrayBuffer, garbage until V8 collects
 * it: up to the whole file's size of dead buffers in the isolate while its WebAssembly memory
 * grows to the model's. Not measured mid-load: the inspector waits while the isolate runs.)
 * A body without BYOB support (a stream that is not a byte stream) is read chunk by chunk as given.
 */
export async function streamModelObject(bucket: R2Bucket, key: string, expectedBytes: number): Promise<AsyncIterable<Uint8Array>> {
  const object = await getRequired(bucket, key);
  checkSize(key, object.size, expectedBytes);
  const body = object.body as unknown as ReadableStream<Uint8Array>;
  let byob: ReadableStreamBYOBReader | undefined;
  try {
    byob = body.getReader({ mode: 'byob' });
  } catch {
    byob = undefined; // not a byte stream: TypeError, and the stream is left unlocked
  }
  if (!byob) {
    const reader = body.getReader();
    return {
      async *[Symbol.asyncIterator]() {
        try {
          for (;;) {
            const { done, value } = await reader.read();
            if (done) return;
            yield value;
          }
        } finally {
          reader.releaseLock();
        }
      },
    };
  }
  const reader = byob;
  return {
    async *[Symbol.asyncIterator]() {
      // A BYOB read transfers the buffer it is given and hands the same memory back in `value`.
      let buffer = new ArrayBuffer(MODEL_CHUNK_BYTES);
      try {
        for (;;) {
          const { done, value } = await reader.read(new Uint8Array(buffer, 0, MODEL_CHUNK_BYTES));
          if (done || !value) return;
          buffer = value.buffer as ArrayBuffer;
          if (value.byteLength > 0) yield value;
        }
      } finally {
        reader.releaseLock();
      }
    },
  };
}

/**
 * The R2 object is there with the size corom.json records, read from its metadata only (one R2
 * HEAD, no body): what a shard Worker's GET /ready checks before it has loaded its file.
 */
export async function checkModelObject(bucket: R2Bucket, key: string, expectedBytes: number): Promise<void> {
  const object = await bucket.head(key);
  if (object === null) throw notFound(key);
  checkSize(key, object.size, expectedBytes);
}

function checkSize(key: string, size: number, expectedBytes: number): void {
  if (size !== expectedBytes) {
    throw new ModelFileError(r2Name(key), `has ${size} bytes but corom.json records ${expectedBytes}; upload the folder again`);
  }
}

async function readText(bucket: R2Bucket, key: string): Promise<string> {
  return (await getRequired(bucket, key)).text();
}

async function readOptionalText(bucket: R2Bucket, key: string): Promise<string | undefined> {
  const object = await bucket.get(key);
  return object === null ? undefined : object.text();
}

async function readBytes(bucket: R2Bucket, key: string): Promise<Uint8Array> {
  return new Uint8Array(await (await getRequired(bucket, key)).arrayBuffer());
}

async function getRequired(bucket: R2Bucket, key: string): Promise<R2ObjectBody> {
  const object = await bucket.get(key);
  if (object === null) throw notFound(key);
  return object;
}

function notFound(key: string): ModelFileError {
  return new ModelFileError(r2Name(key), 'not found in the MODELS bucket (upload the converted folder with `corom upload-r2`; see docs/edge.md)');
}

function parseJson(text: string, key: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ModelFileError(r2Name(key), 'is not valid JSON');
  }
}

function asObject(value: unknown, key: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ModelFileError(r2Name(key), 'is not a JSON object');
  return value as Record<string, unknown>;
}
