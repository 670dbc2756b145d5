/**
 * Child process of shard-peak.ts: loads one shard the way the Worker does (onnxruntime-web/wasm
 * with the Worker's adapter and low-memory loader, the file read in 1 MB chunks straight into WASM
 * memory) and runs one batch of `rows` x maxLength tokens, then reports the peak memory (WASM linear
 * memory + JS above the started runtime's baseline) and the process CPU time of session runs.
 * One process per measurement: WASM memory only grows and ORT's module is a per-process singleton.
 */
import { open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConvertedMetadata } from '../../src/store/metadata.js';
import type { ShardMetadata } from '../../src/store/shard-metadata.js';
import { createLowMemorySession, initializeOrt } from '../../src/runtime/ort-web-low-memory.js';
import { ortWebWorkerdInNode } from '../../src/runtime/ort-web-workerd-node.js';
import { runShard, type ShardInput } from '../../src/runtime/shard-runner.js';
import { padBatch } from '../../src/runtime/length-buckets.js';
import { loadTokenizer } from '../../src/tokenizer/load.js';

export interface ShardPeakRequest {
  dir: string;
  dtype: string;
  index: number;
  rows: number;
  /** 'ort' (default when converted with --ort-format) or 'onnx'. */
  format: 'ort' | 'onnx';
  /** 'tight' (the loader's) or 'emscripten' (the glue's 1.2x). */
  growth: 'tight' | 'emscripten';
  /** Grow WASM memory to this up front (the recorded need). */
  reserveBytes?: number;
  /** Tokens of the short query whose CPU time is measured. */
  queryTokens: number;
}

export interface ShardPeakResult {
  wasmPeakBytes: number;
  jsPeakBytes: number;
  loadMs: number;
  /** Process CPU ms of the second run of the full batch (the first one grows memory). */
  batchCpuMs: number;
  firstBatchCpuMs: number;
  /** Process CPU ms of one run of a single queryTokens-token row (median of 3). */
  queryCpuMs: number;
}

const CHUNK = 1 << 20;
const request = JSON.parse(process.argv[2]!) as ShardPeakRequest;
const meta = JSON.parse(await readFile(join(request.dir, 'corom.json'), 'utf8')) as ConvertedMetadata;
const set = meta.shards?.[request.dtype as keyof NonNullable<ConvertedMetadata['shards']>];
if (!set) throw new Error(`${request.dir} has no ${request.dtype} shard set`);
const shard: ShardMetadata = set.shards[request.index]!;
const file = request.format === 'ort' ? shard.ortFile : shard.file;
if (!file) throw new Error(`shard ${request.index + 1} has no ${request.format} file (convert with --ort-format)`);

const runtime = await ortWebWorkerdInNode();
// The started runtime is the baseline: a Worker has it before it reads a model.
await initializeOrt(runtime);
const memory = runtime.wasmMemory()!;
const jsBytes = (): number => {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};
const tok = request.index === 0 ? await loadTokenizer(request.dir) : undefined;
global.gc?.();
const baseline = jsBytes();
let jsPeak = 0;
const sample = (): void => {
  jsPeak = Math.max(jsPeak, jsBytes() - baseline);
};

async function* chunks(path: string): AsyncGenerator<Uint8Array> {
  const handle = await open(path);
  const buffer = new Uint8Array(CHUNK);
  try {
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, CHUNK);
      if (bytesRead === 0) return;
      sample();
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}

const started = performance.now();
const byteLength = request.format === 'ort' ? shard.ortBytes! : shard.bytes;
const { session } = await createLowMemorySession(runtime, chunks(join(request.dir, file)), {
  byteLength,
  ortFormat: request.format === 'ort',
  ...(request.reserveBytes ? { reserveBytes: request.reserveBytes } : {}),
  ...(request.growth === 'emscripten' ? { growth: 'emscripten' as const } : {}),
  // The Worker's settings: memory over speed (no CPU arena, no memory pattern).
  sessionOptions: { executionProviders: ['wasm'], graphOptimizationLevel: 'all', enableCpuMemArena: false, enableMemPattern: false },
});
sample();
const loadMs = performance.now() - started;

const hidden = meta.hidden;
const input = (rows: number, width: number): ShardInput => {
  if (request.index === 0) {
    const ids = tok!.encode('测'.repeat(4 * width), width);
    const seq = ids.length > width ? ids.subarray(0, width) : ids;
    return { tokens: padBatch(Array.from({ length: rows }, () => seq)) };
  }
  // Activation memory does not depend on the values: a deterministic pseudo-random state.
  const state = new Float32Array(rows * width * hidden);
  let x = 12345;
  for (let i = 0; i < state.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    state[i] = ((x >>> 0) / 4294967296 - 0.5) * 2;
  }
  return { hiddenState: { rows, width, hidden, state, mask: new BigInt64Array(rows * width).fill(1n) } };
};
const cpuMs = async (feed: ShardInput): Promise<number> => {
  const before = process.cpuUsage();
  await runShard(session, shard, runtime.ort.Tensor as never, feed);
  const used = process.cpuUsage(before);
  sample();
  return (used.user + used.system) / 1000;
};

const batch = input(request.rows, meta.maxLength);
sample();
const firstBatchCpuMs = await cpuMs(batch);
const wasmPeakBytes = memory.buffer.byteLength;
const batchCpuMs = await cpuMs(batch);
const query = input(1, request.queryTokens);
const queries = [await cpuMs(query), await cpuMs(query), await cpuMs(query)].sort((a, b) => a - b);
const result: ShardPeakResult = { wasmPeakBytes, jsPeakBytes: jsPeak, loadMs, batchCpuMs, firstBatchCpuMs, queryCpuMs: queries[1]! };
await writeFile(join(process.argv[3]!), JSON.stringify(result));
