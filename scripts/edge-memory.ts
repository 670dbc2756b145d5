/**
 * Edge memory harness: a Cloudflare Worker isolate has 128 MB for JS heap and WASM memory
 * together, and local dev does not enforce it. This loads an artifact on the WASM backend
 * (onnxruntime-web, one thread, as in the Worker), runs the largest allowed batch, and reports
 * peak WASM linear memory + peak JS heap, the artifact size, and cosine to fp32.
 *
 *   node --import tsx scripts/edge-memory.ts [--model CHECKPOINT | --shape base|small] [--quick] [--out docs] [--batch N]
 *
 * Without --model it uses a coROM-base-shaped random checkpoint (same shapes, same memory).
 * It tries several artifact variants and writes docs/edge-memory.md and .json; `--record DIR`
 * [--dtype q4] [--batch 32] measures only that converted folder's artifact and writes the peak into
 * DIR/corom.json (`edge.peakBytes`), which the Worker checks against its budget before loading.
 *
 * Layer shards: `--record DIR [--record DIR ...] [--rows 1,2,4] [--cap-budget 115] [--compare-loading]
 * [--out docs]` on folders converted with `corom convert --shards N --ort-format` measures every
 * shard as the Worker loads it at each batch size, records the batch cap and each shard's peak in
 * corom.json, and prints (with --out, writes) the table: see ./lib/shard-table.ts.
 */
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { getHeapStatistics } from 'node:v8';
import { exists } from '../src/checkpoint/read.js';
import { cosine } from '../src/engine/vectors.js';
import { convertCheckpoint, type ConvertOptions } from '../src/store/convert.js';
import { readConvertedMetadata, writeConvertedMetadata } from '../src/store/files.js';
import type { Dtype } from '../src/engine/types.js';
import { loadTokenizer } from '../src/tokenizer/load.js';
import { loadCorpus } from './bench/corpus.js';
import { COROM_BASE_SHAPE, SMALL_SHAPE, writeRandomBert } from './lib/random-bert.js';
import { measureWasmPeak } from './lib/wasm-peak.js';

const { values: flags } = parseArgs({
  options: {
    model: { type: 'string' },
    quick: { type: 'boolean', default: false },
    out: { type: 'string' },
    batch: { type: 'string' },
    budget: { type: 'string' },
    record: { type: 'string', multiple: true },
    shape: { type: 'string' },
    dtype: { type: 'string' },
    rows: { type: 'string' },
    'cap-budget': { type: 'string' },
    'compare-loading': { type: 'boolean', default: false },
    'render-shards': { type: 'boolean', default: false },
  },
});
if (flags['render-shards']) {
  // Re-render the layer-shard section of docs/edge-memory.md from its saved measurements.
  const { renderFromJson } = await import('./lib/shard-table.js');
  await renderFromJson(resolve(flags.out ?? 'docs'));
  process.exit(0);
}
const quick = flags.quick!;

const recordDirs = (flags.record ?? []).map((d) => resolve(d));
if (recordDirs.length && (await Promise.all(recordDirs.map((d) => readConvertedMetadata(d)))).every((m) => m?.shards && Object.keys(m.shards).length)) {
  // Layer-shard sets (corom convert --shards): measured and recorded by ./lib/shard-table.ts.
  const { measureShardSets } = await import('./lib/shard-table.js');
  await measureShardSets(recordDirs, {
    ...(flags.dtype ? { dtype: flags.dtype as Dtype } : {}),
    rows: (flags.rows ?? '1,2,4').split(',').map(Number),
    capBudgetBytes: Number(flags['cap-budget'] ?? 115) * 1e6,
    compareLoading: flags['compare-loading']!,
    ...(flags.out ? { outDir: resolve(flags.out) } : {}),
    command: `node --import tsx scripts/edge-memory.ts ${process.argv.slice(2).join(' ')}`,
  });
  process.exit(0);
}
if (recordDirs.length) {
  // Measure one converted folder's artifact and write the figure into its corom.json.
  const dir = recordDirs[0]!;
  const meta = await readConvertedMetadata(dir);
  const dtype = (flags.dtype ?? 'q4') as Dtype;
  const entry = meta?.dtypes[dtype];
  if (!meta || !entry) {
    process.stderr.write(`edge-memory: ${dir} has no converted ${dtype} artifact (run corom convert ... --dtype ${dtype} first)\n`);
    process.exit(1);
  }
  const tok = await loadTokenizer(dir);
  const rows = Number(flags.batch ?? 8);
  const batch = Array.from({ length: rows }, () => tok.encode('测'.repeat(4 * meta.maxLength), meta.maxLength));
  const external = entry.externalData ? { path: entry.externalData, data: new Uint8Array(await readFile(join(dir, entry.externalData))) } : undefined;
  const m = await measureWasmPeak(await readFile(join(dir, entry.file)), external, batch, []);
  meta.edge = { dtype, peakBytes: m.wasmPeakBytes + m.jsHeapPeakBytes, wasmBytes: m.wasmPeakBytes, jsBytes: m.jsHeapPeakBytes, batchRows: rows, maxLength: meta.maxLength };
  await writeConvertedMetadata(dir, meta);
  process.stderr.write(`edge-memory: ${dir} ${dtype}: peak ${(meta.edge.peakBytes / 1e6).toFixed(1)} MB (WASM ${(m.wasmPeakBytes / 1e6).toFixed(1)} + JS ${(m.jsHeapPeakBytes / 1e6).toFixed(1)}), recorded in corom.json\n`);
  process.exit(0);
}
const outDir = resolve(flags.out ?? (quick ? await mkdtemp(join(tmpdir(), 'corom-edge-mem-')) : 'docs'));
const budgetMb = Number(flags.budget ?? 128);
const log = (s: string): void => void process.stderr.write(s + '\n');

let source: string;
if (flags.model) source = resolve(flags.model);
else if (quick) source = resolve('test/fixtures/tiny-bert');
else if (flags.shape === 'small') {
  // Not coROM-tiny (whose exact shape could not be confirmed here): an example of a small BERT,
  // to show the size of model that does fit an isolate.
  source = join(tmpdir(), 'small-bert-random');
  if (!(await exists(join(source, 'model.safetensors')))) await writeRandomBert(source, SMALL_SHAPE, { vocabFile: 'test/fixtures/tiny-bert/vocab.txt' });
} else {
  source = join(tmpdir(), 'corom-base-random');
  if (!(await exists(join(source, 'model.safetensors')))) await writeRandomBert(source, COROM_BASE_SHAPE, { vocabFile: 'test/fixtures/tiny-bert/vocab.txt' });
}

interface Variant {
  name: string;
  options: ConvertOptions;
}
const VARIANTS: Variant[] = [
  { name: 'fp32', options: { dtype: 'fp32', hiddenStateOutput: false } },
  { name: 'int8 (8-bit embedding table)', options: { dtype: 'int8', hiddenStateOutput: false } },
  { name: 'q4 block 32 (8-bit embedding table)', options: { dtype: 'q4', q4BlockSize: 32 } },
  { name: 'q4 block 64', options: { dtype: 'q4', q4BlockSize: 64 } },
  { name: 'q4 block 128', options: { dtype: 'q4', q4BlockSize: 128 } },
  { name: 'int8, external data', options: { dtype: 'int8', hiddenStateOutput: false, externalData: true } },
  { name: 'q4 block 32, external data', options: { dtype: 'q4', q4BlockSize: 32, externalData: true } },
  { name: 'q4 block 128, external data', options: { dtype: 'q4', q4BlockSize: 128, externalData: true } },
];

const texts = loadCorpus('data/cmrc2018/cmrc2018_dev.json', quick ? 16 : 64).mixed;
// The largest batch the Worker runs: WORKER_BATCH_LIMITS allows 1024 padded tokens = 8 x 128.
const batchRows = Number(flags.batch ?? 8);
const tokenizer = await loadTokenizer(source);
// The largest allowed batch: batchRows sequences of the full max length (128 tokens).
const longest = texts.slice().sort((a, b) => b.length - a.length)[0]!;
const worstBatch = Array.from({ length: batchRows }, () => tokenizer.encode(longest.repeat(4), 128));
const sample = texts.map((t) => tokenizer.encode(t, 128));

const rows: Record<string, unknown>[] = [];
let reference: Float32Array[] | undefined;
for (const v of VARIANTS) {
  const dir = await mkdtemp(join(tmpdir(), 'corom-edge-variant-'));
  const converted = await convertCheckpoint(source, dir, v.options);
  log(`${v.name}: ${(converted.bytes / 1e6).toFixed(1)} MB, measuring ...`);
  const dataFile = `${converted.modelPath}.data`;
  const external = v.options.externalData ? { path: basename(dataFile), data: new Uint8Array(await readFile(dataFile)) } : undefined;
  const m = await measureWasmPeak(await readFile(converted.modelPath), external, worstBatch, sample);
  reference ??= m.vectors;
  const cos = m.vectors.map((vec, i) => cosine(vec, reference![i]!));
  rows.push({
    variant: v.name,
    dtype: v.options.dtype,
    fileMB: converted.bytes / 1e6,
    wasmPeakMB: m.wasmPeakBytes / 1e6,
    jsHeapPeakMB: m.jsHeapPeakBytes / 1e6,
    totalPeakMB: (m.wasmPeakBytes + m.jsHeapPeakBytes) / 1e6,
    fitsWorker: (m.wasmPeakBytes + m.jsHeapPeakBytes) / 1e6 <= budgetMb,
    cosineToFp32Min: Math.min(...cos),
    cosineToFp32Mean: cos.reduce((a, b) => a + b, 0) / cos.length,
    loadMs: m.loadMs,
    worstBatchMs: m.batchMs,
  });
}

const result = { source: flags.model ?? (quick ? 'tiny fixture' : flags.shape === 'small' ? 'a small BERT-shaped random checkpoint (6 layers, hidden 384, 12 heads, intermediate 1536, vocab 21128)' : 'coROM-base-shaped random checkpoint (12 layers, hidden 768, 12 heads, intermediate 3072, vocab 21128)'), budgetMB: budgetMb, worstBatch: { rows: batchRows, tokens: 128 }, sampleTexts: sample.length, rows, heapLimitMB: getHeapStatistics().heap_size_limit / 1e6 };
await mkdir(outDir, { recursive: true });
const baseName = flags.shape === 'small' ? 'edge-memory-small' : 'edge-memory';
await writeFile(join(outDir, `${baseName}.json`), JSON.stringify(result, null, 2) + '\n');
const md = [
  '# Edge memory',
  '',
  `Produced by \`node --import tsx scripts/edge-memory.ts ${process.argv.slice(2).join(' ')}\` on ${result.source}.`,
  `Each artifact is loaded on onnxruntime-web (WASM, one thread, as in a Worker) from its bytes, then runs the largest allowed batch (${batchRows} x 128 tokens).`,
  'Peak = WASM linear memory after the run (it never shrinks, so its final size is its peak) + the peak JS memory (V8 heap + ArrayBuffers above the baseline of a started runtime, at least the model bytes and external data, which are all alive while the session is created).',
  'Sessions use the Worker settings: one thread, no CPU arena, no memory pattern (`lowMemory`).',
  'Cosine to fp32 on random weights is a pessimistic proxy: an untrained 12-layer network amplifies small perturbations that trained weights damp; check a real artifact with `corom eval --compare fp32 q4`.',
  `Cloudflare's limit is ${budgetMb} MB per isolate for both together. Cosine is to the fp32 artifact on ${sample.length} CMRC 2018 texts.`,
  '',
  '| artifact | file MB | WASM peak MB | JS heap peak MB | total MB | fits 128 MB | cosine to fp32 (min / mean) | load ms | worst batch ms |',
  '|---|---|---|---|---|---|---|---|---|',
  ...rows.map(
    (r: any) =>
      `| ${r.variant} | ${r.fileMB.toFixed(1)} | ${r.wasmPeakMB.toFixed(1)} | ${r.jsHeapPeakMB.toFixed(1)} | ${r.totalPeakMB.toFixed(1)} | ${r.fitsWorker ? 'yes' : '**no**'} | ${r.cosineToFp32Min.toFixed(4)} / ${r.cosineToFp32Mean.toFixed(4)} | ${r.loadMs.toFixed(0)} | ${r.worstBatchMs.toFixed(0)} |`,
  ),
  '',
].join('\n');
// The layer-shard section (./lib/shard-table.ts) is produced by another run: keep it.
const { shardsSection } = await import('./lib/shard-table.js');
const previousDoc = await readFile(join(outDir, `${baseName}.md`), 'utf8').catch(() => '');
await writeFile(join(outDir, `${baseName}.md`), [md.trimEnd(), shardsSection(previousDoc)].filter(Boolean).join('\n\n') + '\n');
log(`wrote ${join(outDir, `${baseName}.md`)}`);
