/**
 * CPU time at the edge for a layer-shard set, measured in real workerd with every Worker running:
 * the front Worker (wrangler.toml, MODEL_SHARDS) and one shard Worker per shard
 * (wrangler.shard.toml), joined by service bindings, each its own workerd process here. Workers
 * bill and cap CPU ms per request per Worker; local workerd does not report it, so this reads the
 * CPU time of each workerd process (the sum of its threads' /proc/<pid>/task/<tid>/schedstat run
 * time, nanoseconds) right before and after each request, one request at a time, after warm-up
 * runs (the first runs also compile ORT's WebAssembly in background threads).
 *
 *   node --import tsx scripts/edge-cpu.ts [--dir FOLDER] [--dtype int8|q4|fp32] [--shards N] [--shape small|base] [--runs 5] [--for-scale] [--compare-node DIR]
 *
 * --dir: a folder converted with `corom convert SRC DIR --dtype D --shards N --ort-format` and
 * recorded with `scripts/edge-memory.ts --record DIR` (its batch cap is used); --dtype picks its
 * set when it has several (else the only one), --shards, if given, must be that set's count.
 * Without --dir, a random BERT of --shape (small: scripts/lib/random-bert.ts SMALL_SHAPE, 6 layers
 * x 384; base: COROM_BASE_SHAPE, 12 x 768, minutes to convert) is converted into --shards N
 * (default 2) shards of --dtype (default int8) and recorded at 1, 2, 4 rows first.
 *
 * A set of 1 shard (`--shards 1`) is the whole model in ONE isolate, as a one-isolate deployment
 * runs it: the front Worker with MODEL_SHARDS = "<dtype>" and a single shard Worker (SHARD_1) that
 * loads the ORT-format file with the low-memory loader. (The front's own unsplit path,
 * MODEL_SHARDS = "", loads model.<dtype>.onnx without that loader: coROM-base q4 peaks at 231 MB
 * there, docs/edge-memory.md, over the isolate's 128 MB.) So q4 in one isolate is
 * `--dtype q4 --shards 1`, the small model as fp32 in one isolate `--dtype fp32 --shards 1`.
 * --for-scale: measure a set that fits no isolate (no batch size within the cap budget, so no cap
 * recorded) anyway, at 1 x maxLength tokens, the Worker's own limit for a set without a cap:
 * local workerd does not enforce 128 MB. For scale only (the fp32 small model: 135.5 MB at 1 x 128
 * in one isolate); the output says so.
 * --compare-node DIR: after the CPU runs, 16 CMRC 2018 texts through the chain (one request,
 * normalize false) against onnxruntime-node, and onnxruntime-web under Node, on DIR's unsplit
 * model.<dtype>.onnx converted from the same checkpoint (`corom convert SRC DIR --dtype D`), run in
 * the same batches (length buckets of the cap, as the front makes them: int8 quantizes activations
 * per run); prints the min cosine and max abs difference per vector for each.
 * Memory: every Worker is started with its V8 inspector open, and each isolate's JS memory (V8 heap
 * used + ArrayBuffer backing stores, `Runtime.getHeapUsage`, test/worker/isolate-heap.ts) is read
 * before the first request and after the runs, next to its WebAssembly memory (the shard's /health)
 * and the peak the harness recorded: the part of the 128 MB the Worker cannot see itself.
 * Prints JSON and markdown tables.
 * Linux only (/proc). Not a test: minutes, and the numbers depend on the machine.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

import { loadEngine } from '../src/engine/load.js';
import { cosine } from '../src/engine/vectors.js';
import { lengthBuckets } from '../src/runtime/length-buckets.js';
import { convertShards } from '../src/store/shards.js';
import { loadCorpus } from './bench/corpus.js';
import type { ConvertedMetadata, ShardMetadata } from '../src/store/metadata.js';
import { startWorkerd, WRANGLER_SHARD_CONFIG, type WorkerdWorker } from '../test/worker/workerd-harness.js';
import { DTYPES, type Dtype } from '../src/engine/types.js';
import { COROM_BASE_SHAPE, SMALL_SHAPE, writeRandomBert } from './lib/random-bert.js';
import { measureShardSets } from './lib/shard-table.js';
import { cpuNs, workerdPids } from './lib/workerd-cpu.js';
import type { IsolateHeap } from '../test/worker/isolate-heap.js';

const { values: flags } = parseArgs({
  options: { dir: { type: 'string' }, runs: { type: 'string', default: '5' }, shape: { type: 'string', default: 'small' }, dtype: { type: 'string' }, shards: { type: 'string' }, 'for-scale': { type: 'boolean', default: false }, 'compare-node': { type: 'string' } },
});
const runs = Number(flags.runs);
const log = (line: string): void => void process.stderr.write(`${line}\n`);
if (flags.dtype !== undefined && !(DTYPES as readonly string[]).includes(flags.dtype)) throw new Error(`--dtype must be one of ${DTYPES.join(', ')} (got ${flags.dtype})`);
const shardCount = flags.shards === undefined ? undefined : Number(flags.shards);
if (shardCount !== undefined && !(Number.isInteger(shardCount) && shardCount >= 1 && shardCount <= 2)) throw new Error(`--shards must be 1 or 2: wrangler.shard.toml defines shard1 and shard2 only (got ${flags.shards})`);

let dir: string;
let cleanup: string | undefined;
if (flags.dir) dir = resolve(flags.dir);
else {
  const shapes = { small: { shape: SMALL_SHAPE, folder: 'small-bert-random' }, base: { shape: COROM_BASE_SHAPE, folder: 'corom-base-random' } } as const;
  const chosen = shapes[flags.shape as keyof typeof shapes];
  if (!chosen) throw new Error(`--shape must be small or base (got ${flags.shape}); pass --dir for another model`);
  const dtype = (flags.dtype ?? 'int8') as Dtype;
  const shards = shardCount ?? 2;
  // The same random checkpoints as scripts/edge-memory.ts (same seed, same folders).
  const source = join(tmpdir(), chosen.folder);
  if (!existsSync(join(source, 'model.safetensors'))) await writeRandomBert(source, chosen.shape, { vocabFile: 'test/fixtures/tiny-bert/vocab.txt' });
  dir = cleanup = await mkdtemp(join(tmpdir(), 'corom-edge-cpu-'));
  log(`converting ${source} to ${shards} ${dtype} shard(s) (ORT format) in ${dir} ...`);
  await convertShards(source, dir, { dtype, shards, ortFormat: true });
  log('recording peaks and the batch cap (scripts/edge-memory.ts --record DIR --rows 1,2,4 --cap-budget 115) ...');
  await measureShardSets([dir], { dtype, rows: [1, 2, 4], capBudgetBytes: 115e6, compareLoading: false, command: 'scripts/edge-cpu.ts' });
}

const meta = JSON.parse(await readFile(join(dir, 'corom.json'), 'utf8')) as ConvertedMetadata;
const sets = Object.values(meta.shards ?? {});
const set = flags.dtype ? meta.shards?.[flags.dtype as Dtype] : sets.length === 1 ? sets[0] : meta.shards?.int8;
const what = flags.dtype ? `${flags.dtype} ` : '';
if (!set) throw new Error(`${dir}: no ${what}shard set (corom convert --shards N --ort-format, then scripts/edge-memory.ts --record ${dir})`);
if (!set.batchCap && !flags['for-scale']) throw new Error(`${dir}: the ${set.dtype} shard set has no recorded batch cap (scripts/edge-memory.ts --record ${dir}; if no batch size fits, --for-scale measures it anyway)`);
// Without a cap the Worker runs 1 x maxLength tokens at a time (worker/memory-budget.ts shardSetLimits).
const cap = set.batchCap ?? { rows: 1, maxLength: meta.maxLength };
const overBudget = set.batchCap === undefined;
if (overBudget) log(`no recorded batch cap: measuring at 1 x ${meta.maxLength} tokens for scale only; this set fits no 128 MB isolate`);
if (shardCount !== undefined && set.count !== shardCount) throw new Error(`${dir}: the ${set.dtype} shard set has ${set.count} shards, not ${shardCount} (--shards)`);
if (set.count > 2) throw new Error('wrangler.shard.toml defines shard1 and shard2 only');
const prefix = 'models/edge-cpu/';
const vars = { MODEL_ID: 'edge-cpu', MODEL_PREFIX: prefix, MODEL_SHARDS: set.dtype };
const objects = async (files: string[]) => Object.fromEntries(await Promise.all(files.map(async (f) => [`${prefix}${f}`, new Uint8Array(await readFile(join(dir, f)))] as const)));

/**
 * Every workerd process of this run, named after the Worker being started when it was first seen.
 * wrangler starts two per Worker (the Worker's and its dev proxy's), and one may appear only after
 * the next Worker's start began, so the names are a hint, not an attribution: the reliable figure
 * is the total over every workerd process (all Workers of the chain plus wrangler's proxies).
 * Each measurement scans again, so a process first seen then is counted too.
 */
const processes: Array<{ name: string; pid: number }> = [];
const workers: Array<{ name: string; worker: WorkerdWorker; shard?: ShardMetadata }> = [];
async function adopt(name: string): Promise<number> {
  const fresh = [...(await workerdPids())].filter((p) => !processes.some((x) => x.pid === p));
  fresh.forEach((pid) => processes.push({ name: `${name} (pid ${pid})`, pid }));
  return fresh.length;
}
async function start(name: string, run: () => Promise<WorkerdWorker>, shard?: ShardMetadata): Promise<WorkerdWorker> {
  const before = processes.length;
  const worker = await run();
  await adopt(name);
  if (processes.length === before) throw new Error(`no new workerd process for ${name}`);
  workers.push({ name, worker, ...(shard ? { shard } : {}) });
  return worker;
}

const registry = await mkdtemp(join(tmpdir(), 'corom-registry-'));
try {
  for (const shard of set.shards) {
    await start(`shard ${shard.index + 1}`, async () =>
      startWorkerd({ config: WRANGLER_SHARD_CONFIG, env: `shard${shard.index + 1}`, registry, vars, objects: await objects(['corom.json', shard.ortFile!]), inspect: true }),
      shard,
    );
  }
  const front = await start('front', async () => startWorkerd({ registry, vars, objects: await objects(['corom.json', 'vocab.txt']), requestTimeoutMs: 600_000, inspect: true }));
  // Each isolate's JS memory before any request: the Worker's own code, loaded at startup.
  const heapAtStart = await Promise.all(workers.map((w) => w.worker.heap!()));

  // 18 characters: [CLS] + 18 + [SEP] = 20 tokens with this vocabulary (checked below).
  const query = '今天天气怎么样北京是中国的首都吃完海';
  const tokens = (await front.postJson('/tokenize', { inputs: query })).body.data[0].ids.length as number;
  // 200 characters: truncated to maxLength tokens.
  const full = Array.from({ length: cap.rows }, (_, i) => `${i}${'测'.repeat(200)}`);

  async function measure(input: string[]): Promise<{ wallMs: number; cpuMs: Record<string, number> }> {
    await adopt('seen later');
    const before = await Promise.all(processes.map((w) => cpuNs(w.pid)));
    const response = await front.postJson('/v1/embeddings', { input });
    // A process first seen now ran entirely within the request: counted from 0.
    for (let added = await adopt('seen during a request'); added > 0; added--) before.push(0);
    const after = await Promise.all(processes.map((w) => cpuNs(w.pid)));
    if (response.status !== 200 || response.headers.get('x-corom-backend') !== `wasm-shards:${set!.count}`) throw new Error(`answered ${response.status} ${response.headers.get('x-corom-backend')}: ${JSON.stringify(response.body).slice(0, 300)}`);
    return { wallMs: response.ms, cpuMs: Object.fromEntries(processes.map((w, i) => [w.name, (after[i]! - before[i]!) / 1e6])) };
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  function summarize(samples: Array<{ wallMs: number; cpuMs: Record<string, number> }>) {
    const perWorker = Object.fromEntries(processes.map((w) => [w.name, +median(samples.map((s) => s.cpuMs[w.name] ?? 0)).toFixed(1)]));
    const total = +median(samples.map((s) => Object.values(s.cpuMs).reduce((a, b) => a + b, 0))).toFixed(1);
    return { cpuMs: perWorker, totalCpuMs: total, wallMs: +median(samples.map((s) => s.wallMs)).toFixed(0) };
  }

  log('warming up (first runs load the shards and compile WebAssembly) ...');
  const cold = await measure(full);
  for (let i = 0; i < 2; i++) await measure(full);
  for (let i = 0; i < 2; i++) await measure([query]);
  const queries = [];
  for (let i = 0; i < runs; i++) queries.push(await measure([query]));
  const batches = [];
  for (let i = 0; i < Math.max(3, Math.ceil(runs / 2)); i++) batches.push(await measure(full));
  const health = await Promise.all(workers.filter((w) => w.name !== 'front').map(async (w) => (await w.worker.get('/health')).body));
  // After the runs at the cap: what each isolate holds beside its WebAssembly memory. (Inspector
  // calls wait while the isolate runs, so this is the settled state after the runs, not a peak
  // inside one; "used" may include garbage not yet collected.)
  const heapAfter: IsolateHeap[] = [];
  for (const w of workers) heapAfter.push(await w.worker.heap!());
  const mbOf = (bytes: number): number => +(bytes / 1e6).toFixed(1);
  const js = (h: IsolateHeap): number => h.usedBytes + h.arrayBufferBytes;
  const isolates = workers.map(({ name, shard }, i) => {
    const wasm = shard ? ((health[shard.index]?.wasmMemoryBytes as number | null) ?? 0) : 0;
    return {
      worker: name,
      wasmMB: mbOf(wasm),
      jsAtStartMB: mbOf(js(heapAtStart[i]!)),
      jsAfterMB: mbOf(js(heapAfter[i]!)),
      v8ReservedMB: mbOf(heapAfter[i]!.totalBytes),
      isolateMB: mbOf(wasm + heapAfter[i]!.totalBytes + heapAfter[i]!.arrayBufferBytes),
      recordedPeakMB: shard?.edge ? mbOf(shard.edge.peakBytes) : null,
    };
  });

  type Comparison = { texts: number; runs: number; minCosine: number; maxAbsDiff: number; against: string };
  const comparisons: Comparison[] = [];
  if (flags['compare-node']) {
    const nodeDir = resolve(flags['compare-node']);
    const texts = loadCorpus('data/cmrc2018/cmrc2018_dev.json', 16).mixed;
    const response = await front.postJson('/v1/embeddings', { input: texts, normalize: false });
    if (response.status !== 200) throw new Error(`answered ${response.status}: ${JSON.stringify(response.body).slice(0, 300)}`);
    const got = (response.body.data as Array<{ embedding: number[] }>).map((d) => Float32Array.from(d.embedding));
    // onnxruntime-node (corom serve's backend) and, to tell a kernel difference from a chain one,
    // onnxruntime-web under Node on the same unsplit graph.
    for (const backend of ['node', 'wasm'] as const) {
      log(`comparing with the ${backend} backend on ${nodeDir} (model.${set.dtype}.onnx) ...`);
      const engine = await loadEngine({ model: nodeDir, dtype: set.dtype, backend, threads: 1 });
      try {
        const ids = engine.tokenize(texts);
        const expected = new Array<Float32Array>(texts.length);
        const buckets = lengthBuckets(ids.map((x) => x.length), { maxBatchSize: cap.rows, maxBatchTokens: cap.rows * cap.maxLength });
        for (const bucket of buckets) (await engine.embedTokens(bucket.map((i) => ids[i]!))).forEach((v, row) => (expected[bucket[row]!] = v));
        let minCosine = 1;
        let maxAbs = 0;
        got.forEach((v, i) => {
          minCosine = Math.min(minCosine, cosine(v, expected[i]!));
          for (let k = 0; k < v.length; k++) maxAbs = Math.max(maxAbs, Math.abs(v[k]! - expected[i]![k]!));
        });
        const runtime = backend === 'node' ? 'onnxruntime-node' : 'onnxruntime-web under Node';
        comparisons.push({ texts: texts.length, runs: buckets.length, minCosine: +minCosine.toFixed(7), maxAbsDiff: Number(maxAbs.toExponential(2)), against: `${runtime}, ${basename(nodeDir)}/model.${set.dtype}.onnx` });
      } finally {
        await engine.close();
      }
    }
  }

  const result = {
    folder: basename(dir),
    model:
      set.count === 1
        ? `${meta.layers} layers x ${meta.hidden} hidden, ${set.dtype}, 1 shard (the whole model in one isolate)`
        : `${meta.layers} layers x ${meta.hidden} hidden, ${set.dtype}, ${set.count} shards (layers ${set.shards.map((s) => `${s.layers[0]}-${s.layers[1] - 1}`).join(' | ')})`,
    batchCap: set.batchCap ?? null,
    ...(overBudget ? { overBudget: `no batch size fits the cap budget (no cap recorded): measured at ${cap.rows} x ${cap.maxLength}, the Worker's limit without a cap, for scale only` } : {}),
    cpu: cpus()[0]?.model ?? 'unknown',
    queryTokens: tokens,
    firstRequestAtCap: { cpuMs: Object.fromEntries(Object.entries(cold.cpuMs).map(([k, v]) => [k, +v.toFixed(1)])), wallMs: Math.round(cold.wallMs) },
    query: summarize(queries),
    batchAtCap: summarize(batches),
    shardWasmMB: health.map((h) => +((h.wasmMemoryBytes as number) / 1e6).toFixed(1)),
    isolates,
    ...(comparisons.length ? { comparisons } : {}),
  };
  console.log(JSON.stringify(result, null, 2));
  const names = processes.map((w) => w.name);
  console.log(`\n| ${result.model} | ${names.map((n) => `${n} CPU ms`).join(' | ')} | all Workers CPU ms | wall ms |`);
  console.log(`|---|${names.map(() => '---|').join('')}---|---|`);
  console.log(`| ${tokens}-token query (median of ${runs}) | ${names.map((n) => result.query.cpuMs[n]).join(' | ')} | ${result.query.totalCpuMs} | ${result.query.wallMs} |`);
  console.log(`| ${cap.rows} x ${cap.maxLength} tokens, ${overBudget ? 'no cap fits: for scale only' : 'the cap'} (median of ${batches.length}) | ${names.map((n) => result.batchAtCap.cpuMs[n]).join(' | ')} | ${result.batchAtCap.totalCpuMs} | ${result.batchAtCap.wallMs} |`);
  console.log(`| first request of fresh isolates, ${overBudget ? `${cap.rows} x ${cap.maxLength}` : 'at the cap'} (loads + compiles) | ${names.map((n) => result.firstRequestAtCap.cpuMs[n]).join(' | ')} | ${Object.values(result.firstRequestAtCap.cpuMs).reduce((a, b) => a + b, 0).toFixed(1)} | ${result.firstRequestAtCap.wallMs} |`);
  console.log('\n| Worker | WASM MB | JS MB at start -> after the runs (V8 heap used + ArrayBuffers) | V8 heap reserved MB | isolate MB (WASM + V8 reserved + ArrayBuffers) | recorded peak MB (harness: WASM + JS above its baseline) |');
  console.log('|---|---|---|---|---|---|');
  for (const i of isolates) console.log(`| ${i.worker} | ${i.wasmMB} | ${i.jsAtStartMB} -> ${i.jsAfterMB} | ${i.v8ReservedMB} | ${i.isolateMB} | ${i.recordedPeakMB ?? '-'} |`);
  for (const c of comparisons) console.log(`${c.texts} CMRC texts in ${c.runs} runs, workerd chain vs ${c.against}, same batches: min cosine ${c.minCosine.toFixed(7)}, max abs diff ${c.maxAbsDiff.toExponential(2)}`);
} finally {
  await Promise.all(workers.map((w) => w.worker.dispose()));
  await rm(registry, { recursive: true, force: true });
  if (cleanup) await rm(cleanup, { recursive: true, force: true });
}
