/**
 * `npm run bench` -- side-by-side performance of this engine, in one run on one machine:
 *   1. engine (onnxruntime-node, fp32 and int8) vs transformers.js' feature-extraction pipeline on
 *      the same ONNX files and thread count: texts/s and tokens/s on mixed-length real Chinese text,
 *      and single short-query latency p50/p99;
 *   2. WASM backend vs native backend, one thread each;
 *   3. the HTTP server under load from another process (autocannon), batching on vs off;
 *   4. our tokenizer vs transformers.js' tokenizer;
 *   5. achieved GOP/s of the engine vs the peak of one large MatMul in the same runtime;
 *   6. the cross-encoder ranker: pairs/s of the engine's Ranker vs transformers.js on the same ONNX
 *      file (fp32, int8), requests of 20 passages; rerank requests/s through the server when it
 *      serves the ranker (or through --rerank-server URL) -- see scripts/bench/ranker.ts.
 * Every figure is the median of --runs runs with min-max. Writes docs/benchmarks.md and .json.
 *
 * --device cuda: instead, fp32 and int8 on the CUDA execution provider and on the CPU in the same
 * run, texts/s and tokens/s side by side (writes benchmarks-cuda.md and .json). It first checks that
 * the CUDA provider really loads and exits 1 with one line before measuring anything when it does
 * not; the CUDA engines are loaded with requireDevice, so a CPU fallback can never be reported as
 * GPU numbers.
 *
 *   node --import tsx scripts/bench.ts [--quick] [--runs N] [--texts N] [--wasm-texts N] [--threads N]
 *                                      [--sections engine,wasm,http,tokenizer,roofline,ranker] [--out DIR]
 *                                      [--ranker-model DIR] [--ranker-pairs N] [--rerank-server URL]
 *
 * Running a subset of --sections into a folder that already holds benchmarks.json keeps that file's
 * other sections (each section records the command that measured it).
 *
 * --quick: the tiny fixture model, few texts, one run: a smoke run of every section (npm test runs
 * it so the script never rots; its numbers mean nothing).
 */
import { execSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { readBertConfig } from '../src/checkpoint/read.js';
import { exists } from '../src/checkpoint/read.js';
import { loadEngine, loadRanker } from '../src/engine/load.js';
import { cosine } from '../src/engine/vectors.js';
import { convertCheckpoint } from '../src/store/convert.js';
import { loadTokenizer } from '../src/tokenizer/load.js';
import { loadCorpus } from './bench/corpus.js';
import { encoderOps } from './bench/flops.js';
import { loadTest, startServer, stopServer, type LoadResult } from './bench/http-load.js';
import { matmulPeak } from './bench/matmul-peak.js';
import { fmt, percentile, summarize, timeIt, type Summary } from './bench/stats.js';
import { loadTransformersJs, transformersJsFolder } from './bench/transformers-js.js';
import { COROM_BASE_SHAPE, writeRandomBert } from './lib/random-bert.js';
import { findServedRanker, loadTransformersJsRanker, pairsPerSecondSideBySide, rerankLoadTest, rerankRequests, transformersJsRankerFolder, type RerankLoadResult } from './bench/ranker.js';

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    runs: { type: 'string' },
    texts: { type: 'string' },
    threads: { type: 'string' },
    out: { type: 'string' },
    model: { type: 'string' },
    sections: { type: 'string' },
    'wasm-texts': { type: 'string' },
    device: { type: 'string' },
    'ranker-model': { type: 'string' },
    'ranker-pairs': { type: 'string' },
    'rerank-server': { type: 'string' },
  },
});
if (flags.device !== undefined && flags.device !== 'cpu' && flags.device !== 'cuda') {
  process.stderr.write(`bench: --device must be cpu or cuda (got '${flags.device}')\n`);
  process.exit(2);
}
const cudaMode = flags.device === 'cuda';
if (cudaMode) {
  const { probeExecutionProvider, SETUP_CUDA_COMMAND } = await import('../src/runtime/ort-node-providers.js');
  const probe = await probeExecutionProvider('cuda');
  if (!probe.loads) {
    process.stderr.write(`bench: CUDA execution provider unavailable: ${probe.reason}; run ${SETUP_CUDA_COMMAND} on a GPU host\n`);
    process.exit(1);
  }
}
const quick = flags.quick!;
const runs = Number(flags.runs ?? (quick ? 1 : 3));
const textCount = Number(flags.texts ?? (quick ? 48 : 2000));
const threads = Number(flags.threads ?? availableParallelism());
const outDir = resolve(flags.out ?? (quick ? await mkdtemp(join(tmpdir(), 'corom-bench-')) : 'docs'));
const sections = new Set((flags.sections ?? (cudaMode ? 'device' : 'engine,wasm,http,tokenizer,roofline,ranker')).split(','));
const BATCH = 256;
const log = (s: string): void => void process.stderr.write(s + '\n');

// --- model ---------------------------------------------------------------------------------
const work = await mkdtemp(join(tmpdir(), 'corom-bench-work-'));
// The embedding sections need the embedder; a ranker-only run converts just the tiny fixture here.
const embedderSections = ['engine', 'wasm', 'http', 'tokenizer', 'roofline', 'device'].some((s) => sections.has(s));
let source: string;
if (flags.model) source = resolve(flags.model);
else if (quick || !embedderSections) source = resolve('test/fixtures/tiny-bert');
else {
  source = join(tmpdir(), 'corom-base-random');
  if (!(await exists(join(source, 'model.safetensors')))) {
    log('writing a coROM-base-shaped random checkpoint ...');
    await writeRandomBert(source, COROM_BASE_SHAPE, { vocabFile: 'test/fixtures/tiny-bert/vocab.txt' });
  }
}
const converted = join(work, 'converted');
for (const dtype of ['fp32', 'int8'] as const) await convertCheckpoint(source, converted, { dtype });
const config = await readBertConfig(source);
const tokenizer = await loadTokenizer(converted);
const { mixed, queries } = loadCorpus('data/cmrc2018/cmrc2018_dev.json', textCount);
const tokenLengths = mixed.map((t) => tokenizer.encode(t, 128).length);
const realTokens = tokenLengths.reduce((a, b) => a + b, 0);
const paddedOps = (lengths: number[]): number => lengths.reduce((s, l) => s + encoderOps(config, l), 0);
const usefulOps = paddedOps(tokenLengths);

const batches = (texts: string[]): string[][] => Array.from({ length: Math.ceil(texts.length / BATCH) }, (_, i) => texts.slice(i * BATCH, (i + 1) * BATCH));

interface Throughput {
  textsPerSec: Summary;
  tokensPerSec: Summary;
  gops: Summary;
}

async function throughput(embed: (texts: string[]) => Promise<unknown>, texts: string[], tokens: number, ops: number): Promise<Throughput> {
  await embed(texts.slice(0, 8)); // warm-up
  const ms: number[] = [];
  for (let r = 0; r < runs; r++) ms.push(await timeIt(async () => { for (const b of batches(texts)) await embed(b); }));
  return {
    textsPerSec: summarize(ms.map((m) => (texts.length * 1000) / m)),
    tokensPerSec: summarize(ms.map((m) => (tokens * 1000) / m)),
    gops: summarize(ms.map((m) => ops / m / 1e6)),
  };
}

async function latency(embed: (texts: string[]) => Promise<unknown>): Promise<{ p50: number; p99: number; n: number }> {
  const n = quick ? 20 : 200;
  const samples: number[] = [];
  for (let i = 0; i < n; i++) samples.push(await timeIt(() => embed([queries[i % queries.length]!])));
  return { p50: percentile(samples, 50), p99: percentile(samples, 99), n };
}

/** The CPU flags that decide which kernels onnxruntime picks (fp32 FMA / AVX-512, int8 VNNI, AMX). */
function cpuFlags(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('flags')) ?? '';
    const wanted = ['avx2', 'fma', 'avx512f', 'avx512bw', 'avx512_vnni', 'avx_vnni', 'avx512_bf16', 'amx_tile', 'amx_int8'];
    const have = new Set(line.split(':')[1]?.trim().split(/\s+/) ?? []);
    return wanted.filter((f) => have.has(f)).join(' ');
  } catch {
    return '';
  }
}

const results: Record<string, unknown> = {
  machine: { cpu: cpus()[0]?.model ?? 'unknown', flags: cpuFlags(), cores: availableParallelism(), memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, onnxruntime: '1.30.0' },
  model: { source: flags.model ? source : quick ? 'tiny fixture' : 'coROM-base-shaped random weights', hidden: config.hiddenSize, layers: config.numLayers, heads: config.numHeads },
  corpus: { texts: mixed.length, realTokens, meanTokens: realTokens / mixed.length, batch: BATCH },
  runs,
  threads,
  quick,
};

// --- 1. engine vs transformers.js ---------------------------------------------------------------
if (sections.has('engine')) {
  const tjsRoot = await transformersJsFolder(converted, work, 128);
  const section: Record<string, unknown> = {};
  for (const dtype of ['fp32', 'int8'] as const) {
    log(`engine vs transformers.js (${dtype}) ...`);
    const engine = await loadEngine({ model: converted, dtype, threads });
    const ours = await throughput((t) => engine.embed(t), mixed, realTokens, usefulOps);
    const oursLatency = await latency((t) => engine.embed(t));
    const tjs = await loadTransformersJs(tjsRoot, dtype, threads);
    const theirs = await throughput((t) => tjs.embed(t), mixed, realTokens, usefulOps);
    const theirsLatency = await latency((t) => tjs.embed(t));
    await tjs.dispose();
    section[dtype] = { ours, oursLatency, transformersJs: theirs, transformersJsLatency: theirsLatency, ratio: ours.textsPerSec.median / theirs.textsPerSec.median };
    if (dtype === 'int8') {
      const fp32 = await loadEngine({ model: converted, dtype: 'fp32', threads });
      const sample = mixed.slice(0, Math.min(200, mixed.length));
      const [a, b] = [await fp32.embed(sample), await engine.embed(sample)];
      section.int8CosineToFp32 = { min: Math.min(...a.map((v, i) => cosine(v, b[i]!))), mean: a.reduce((s, v, i) => s + cosine(v, b[i]!), 0) / a.length };
      await fp32.close();
    }
    await engine.close();
  }
  const fp32 = section.fp32 as { ours: Throughput };
  const int8 = section.int8 as { ours: Throughput };
  section.int8OverFp32 = int8.ours.textsPerSec.median / fp32.ours.textsPerSec.median;
  results.engine = section;
}

// --- 2. WASM vs native, one thread each ------------------------------------------------------
if (sections.has('wasm')) {
  log('wasm vs native, one thread ...');
  const subset = mixed.slice(0, Number(flags['wasm-texts'] ?? (quick ? mixed.length : 96)));
  const subsetTokens = subset.reduce((s, t) => s + tokenizer.encode(t, 128).length, 0);
  const subsetOps = paddedOps(subset.map((t) => tokenizer.encode(t, 128).length));
  const native = await loadEngine({ model: converted, threads: 1 });
  const nativeT = await throughput((t) => native.embed(t), subset, subsetTokens, subsetOps);
  await native.close();
  const wasm = await loadEngine({ model: converted, backend: 'wasm' });
  const wasmT = await throughput((t) => wasm.embed(t), subset, subsetTokens, subsetOps);
  await wasm.close();
  results.wasm = { texts: subset.length, native: nativeT, wasm: wasmT, slowdown: nativeT.textsPerSec.median / wasmT.textsPerSec.median };
}

// --- 3. HTTP under load ------------------------------------------------------------------------
if (sections.has('http')) {
  const bin = resolve('dist/src/cli/main.js');
  if (!(await exists(bin))) execSync('npm run build', { stdio: 'ignore' });
  const seconds = quick ? 2 : 15;
  const section: Record<string, LoadResult[]> = {};
  for (const mode of ['batching', 'no-batching']) {
    log(`http load, ${mode} ...`);
    section[mode] = [];
    for (let r = 0; r < runs; r++) {
      const server = await startServer(bin, ['--model', converted, '--model-id', 'corom', '--dtype', 'fp32', '--threads', String(threads), ...(mode === 'no-batching' ? ['--no-batching'] : [])]);
      try {
        section[mode]!.push(await loadTest(server.url, 'corom', queries, 32, seconds));
      } finally {
        await stopServer(server.child);
      }
    }
  }
  const rps = (m: string): Summary => summarize(section[m]!.map((x) => x.requestsPerSec));
  const p99 = (m: string): Summary => summarize(section[m]!.map((x) => x.p99));
  results.http = { connections: 32, seconds, runs: section, batchingRps: rps('batching'), noBatchingRps: rps('no-batching'), batchingP99: p99('batching'), noBatchingP99: p99('no-batching'), ratio: rps('batching').median / rps('no-batching').median };
}

// --- 4. tokenizer -----------------------------------------------------------------------------
if (sections.has('tokenizer')) {
  log('tokenizer ...');
  const { transformersJsBert } = await import('./lib/transformers-js-bert.js');
  const { readFile } = await import('node:fs/promises');
  const reference = transformersJsBert(await readFile(join(converted, 'vocab.txt'), 'utf8'));
  const texts = loadCorpus('data/cmrc2018/cmrc2018_dev.json', quick ? 200 : 4000).mixed;
  const rate = async (encode: (t: string) => unknown): Promise<Summary> => {
    for (const t of texts.slice(0, 50)) encode(t);
    const ms: number[] = [];
    for (let r = 0; r < Math.max(runs, 3); r++) ms.push(await timeIt(() => texts.forEach((t) => encode(t))));
    return summarize(ms.map((m) => (texts.length * 1000) / m));
  };
  const ours = await rate((t) => tokenizer.encode(t, 128));
  const theirs = await rate((t) => reference.encode(t, 128));
  results.tokenizer = { texts: texts.length, ours, transformersJs: theirs, ratio: ours.median / theirs.median };
}

// --- 5. roofline ------------------------------------------------------------------------------
if (sections.has('roofline')) {
  log('matmul peak ...');
  const [M, K, N] = quick ? [256, 128, 512] : [4096, 768, 3072];
  const fp32 = await matmulPeak('fp32', M, K, N, threads, Math.max(runs, 3));
  const int8 = await matmulPeak('int8', M, K, N, threads, Math.max(runs, 3));
  const engine = results.engine as { fp32?: { ours: Throughput }; int8?: { ours: Throughput } } | undefined;
  results.roofline = {
    shape: [M, K, N],
    fp32Peak: fp32,
    int8Peak: int8,
    engineFp32Fraction: engine?.fp32 ? engine.fp32.ours.gops.median / fp32.median : null,
    engineInt8Fraction: engine?.int8 ? engine.int8.ours.gops.median / int8.median : null,
  };
}

// --- 6. cross-encoder ranker ---------------------------------------------------------------------
if (sections.has('ranker')) {
  // --rerank-server: check it serves a ranker before measuring anything else.
  const rerankServer = flags['rerank-server']?.replace(/\/$/, '');
  const servedRanker = rerankServer === undefined ? undefined : await findServedRanker(rerankServer);
  if (servedRanker && 'missing' in servedRanker) {
    process.stderr.write(`bench: --rerank-server ${rerankServer}: ${servedRanker.missing}\n`);
    process.exit(1);
  }
  let rankerSource: string;
  if (flags['ranker-model']) rankerSource = resolve(flags['ranker-model']);
  else if (quick) rankerSource = resolve('test/fixtures/tiny-ranker');
  else {
    rankerSource = join(tmpdir(), 'corom-base-random-ranker');
    if (!(await exists(join(rankerSource, 'model.safetensors')))) {
      log('writing a coROM-base-shaped random ranking checkpoint ...');
      await writeRandomBert(rankerSource, COROM_BASE_SHAPE, { vocabFile: 'test/fixtures/tiny-bert/vocab.txt', ranking: {} });
    }
  }
  const rankerDir = join(work, 'ranker');
  for (const dtype of ['fp32', 'int8'] as const) await convertCheckpoint(rankerSource, rankerDir, { dtype });
  const rankerConfig = await readBertConfig(rankerSource);
  const perRequest = 20;
  const pairCount = Number(flags['ranker-pairs'] ?? (quick ? 40 : 200));
  const requests = rerankRequests('data/cmrc2018/cmrc2018_dev.json', pairCount, perRequest);
  const tjsRoot = await transformersJsRankerFolder(rankerDir, work, 128);
  const section: Record<string, unknown> = {
    // The 1-minute load average before and after: a shared machine shows here.
    loadAverage: { start: loadavg()[0] },
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    machine: results.machine,
    threads,
    runs,
    model: { source: flags['ranker-model'] ? rankerSource : quick ? 'tiny-ranker fixture' : 'coROM-base-shaped random ranking weights', hidden: rankerConfig.hiddenSize, layers: rankerConfig.numLayers, heads: rankerConfig.numHeads },
    pairs: requests.reduce((n, r) => n + r.passages.length, 0),
    perRequest,
  };
  for (const dtype of ['fp32', 'int8'] as const) {
    log(`ranker: engine vs transformers.js (${dtype}) ...`);
    const ranker = await loadRanker({ model: rankerDir, dtype, threads });
    const tjs = await loadTransformersJsRanker(tjsRoot, dtype, threads, 128);
    // Same file, same logits: checked on pairs short enough that neither side truncates.
    const shortQuery = requests[0]!.query;
    const shortPassages = requests.slice(1, 9).map((r) => r.query);
    const ours = (await ranker.rank(shortQuery, shortPassages)).logits;
    const theirs = await tjs.logits(shortQuery, shortPassages);
    const maxAbsLogitDiff = Math.max(...ours.map((v, i) => Math.abs(v - theirs[i]!)));
    if (!(maxAbsLogitDiff < 1e-3)) throw new Error(`ranker ${dtype}: transformers.js logits differ from ours by ${maxAbsLogitDiff} on the same file`);
    if (section.meanTokens === undefined) {
      const lengths = requests.flatMap((r) => ranker.tokenizePairs(r.query, r.passages).map((p) => p.ids.length));
      section.meanTokens = lengths.reduce((a, b) => a + b, 0) / lengths.length;
    }
    const [oursRate, theirsRate] = await pairsPerSecondSideBySide(
      (r) => ranker.rank(r.query, r.passages),
      (r) => tjs.logits(r.query, r.passages),
      requests,
      runs,
    );
    await tjs.dispose();
    await ranker.close();
    section[dtype] = { ours: oursRate, transformersJs: theirsRate, ratio: oursRate.median / theirsRate.median, maxAbsLogitDiff };
  }
  section.int8OverFp32 = (section.int8 as { ours: Summary }).ours.median / (section.fp32 as { ours: Summary }).ours.median;
  (section.loadAverage as { end?: number }).end = loadavg()[0];

  // Rerank requests/s through a server, only when the server says it serves a ranker
  // (kind "rerank" in /v1/models): a server without cross-encoder routes reranks by cosine.
  // A coROM-base cross-encoder scores ~10-30 pairs/s on 2 cores: one 20-document request takes
  // seconds and already uses every core, so two connections keep the server busy without a queue
  // longer than the client's timeout (8 connections left most requests timing out at 10 s).
  const loadSeconds = quick ? 2 : 30;
  const rerankConnections = 2;
  const rerankRuns = async (url: string, model: string): Promise<RerankLoadResult[]> => {
    const out: RerankLoadResult[] = [];
    for (let r = 0; r < runs; r++) out.push(await rerankLoadTest(url, model, requests, rerankConnections, loadSeconds));
    return out;
  };
  const rerankSection = (server: string, model: string, list: RerankLoadResult[]) => ({
    server,
    model,
    connections: rerankConnections,
    seconds: loadSeconds,
    runs: list,
    requestsPerSec: summarize(list.map((x) => x.requestsPerSec)),
    pairsPerSec: summarize(list.map((x) => x.pairsPerSec)),
    failed: list.reduce((n, x) => n + x.errors + x.non2xx, 0),
  });
  if (rerankServer !== undefined && servedRanker && 'id' in servedRanker) {
    const url = rerankServer;
    const found = servedRanker;
    log(`rerank load on ${url} (${found.id}) ...`);
    const list = await rerankRuns(url, found.id);
    section.http = rerankSection(url, found.id, list);
  } else if (sections.has('http')) {
    const bin = resolve('dist/src/cli/main.js');
    if (!(await exists(bin))) execSync('npm run build', { stdio: 'ignore' });
    log('rerank load through corom serve ...');
    let server: Awaited<ReturnType<typeof startServer>> | undefined;
    try {
      server = await startServer(bin, ['--model', rankerDir, '--model-id', 'ranker', '--dtype', 'fp32', '--threads', String(threads)]);
    } catch (err) {
      section.http = { unavailable: `corom serve did not start with the ranker: ${(err as Error).message.split('\n')[0]}` };
    }
    if (server) {
      try {
        const found = await findServedRanker(server.url);
        if ('missing' in found) section.http = { unavailable: found.missing };
        else {
          const list = await rerankRuns(server.url, found.id);
          section.http = rerankSection('corom serve', found.id, list);
        }
      } finally {
        await stopServer(server.child);
      }
    }
    const unavailable = (section.http as { unavailable?: string } | undefined)?.unavailable;
    if (unavailable) log(`RERANK THROUGH THE SERVER NOT MEASURED: ${unavailable}`);
  }
  results.ranker = section;
}

// --- --device cuda: GPU vs CPU, fp32 and int8 ------------------------------------------------------
if (sections.has('device')) {
  const rows: { dtype: string; device: string; backend: string; throughput: Throughput }[] = [];
  for (const dtype of ['fp32', 'int8'] as const) {
    for (const device of ['cuda', 'cpu'] as const) {
      log(`${dtype} on ${device} ...`);
      // requireDevice: a CUDA engine that cannot use the GPU throws instead of running on the CPU.
      const engine = await loadEngine({ model: converted, dtype, threads, device, requireDevice: device === 'cuda' });
      if (device === 'cuda' && engine.info.backend !== 'onnxruntime-node/cuda') throw new Error(`expected the CUDA provider, got ${engine.info.backend}`);
      rows.push({ dtype, device, backend: engine.info.backend, throughput: await throughput((t) => engine.embed(t), mixed, realTokens, usefulOps) });
      await engine.close();
    }
  }
  results.device = rows;
  const table = [
    '| dtype | device | backend | texts/s (min-max) | tokens/s (min-max) |',
    '|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.dtype} | ${r.device} | ${r.backend} | ${fmt(r.throughput.textsPerSec)} | ${fmt(r.throughput.tokensPerSec)} |`),
  ];
  const ratios = (['fp32', 'int8'] as const).map((dtype) => {
    const [gpu, cpu] = (['cuda', 'cpu'] as const).map((device) => rows.find((r) => r.dtype === dtype && r.device === device)!.throughput.textsPerSec.median);
    return `${dtype}: GPU ${(gpu! / cpu!).toFixed(2)}x the CPU`;
  });
  const machine = results.machine as { cpu: string; cores: number };
  const md = [
    '# GPU vs CPU (npm run bench -- --device cuda)',
    '',
    `Command: \`npm run bench -- ${process.argv.slice(2).join(' ')}\`; ${mixed.length} mixed-length texts, batches of ${BATCH}, ${runs} run(s), median (min-max); CPU ${machine.cpu}, ${threads} threads.`,
    '',
    ...table,
    '',
    ratios.join('; '),
    '',
  ].join('\n');
  await mkdir(outDir, { recursive: true });
  await writeFile(join(outDir, 'benchmarks-cuda.json'), JSON.stringify(results, null, 2) + '\n');
  await writeFile(join(outDir, 'benchmarks-cuda.md'), md);
  process.stdout.write(md);
  log(`wrote ${join(outDir, 'benchmarks-cuda.md')} and benchmarks-cuda.json`);
  process.exit(0);
}

await mkdir(outDir, { recursive: true });
results.args = process.argv.slice(2).join(' ');
// A run of some sections into a folder with an earlier full run keeps that run's other sections.
const MEASURED_SECTIONS = ['engine', 'wasm', 'http', 'tokenizer', 'roofline', 'ranker'];
if (MEASURED_SECTIONS.some((name) => !sections.has(name)) && (await exists(join(outDir, 'benchmarks.json')))) {
  const { readFile } = await import('node:fs/promises');
  const previous = JSON.parse(await readFile(join(outDir, 'benchmarks.json'), 'utf8')) as Record<string, unknown>;
  if (!embedderSections) {
    for (const key of ['machine', 'model', 'corpus', 'runs', 'threads', 'quick', 'args']) if (key in previous) results[key] = previous[key];
    if (previous.args === undefined) {
      const md = await readFile(join(outDir, 'benchmarks.md'), 'utf8').catch(() => '');
      results.args = /Produced by `npm run bench(?: -- ([^`]*))?`/.exec(md)?.[1] ?? '';
    }
  }
  for (const name of MEASURED_SECTIONS) if (!sections.has(name) && name in previous) results[name] = previous[name];
}
await writeFile(join(outDir, 'benchmarks.json'), JSON.stringify(results, null, 2) + '\n');
await writeFile(join(outDir, 'benchmarks.md'), (await import('./bench/report.js')).renderReport(results, String(results.args)));
log(`wrote ${join(outDir, 'benchmarks.md')} and benchmarks.json`);
