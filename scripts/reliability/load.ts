/**
 * Load test: `corom serve` (fixture model, child process) under autocannon from this process, 64
 * connections cycling through single texts, 256-text batches and rerank calls for a fixed
 * duration, with --max-queue below the connection count so the server is overloaded.
 *
 * What must hold (checked by test/reliability/load.test.ts on a short run):
 *   - no 5xx, no connection errors or timeouts, every answer is 200 or 429;
 *   - every 200 is complete (one vector per input, one result per document);
 *   - every 429 carries Retry-After;
 *   - admitted requests never exceed --max-queue (sampled from /metrics during the run).
 * How fast the 429s come back against the 200s (p50/p99/p99.9) is reported, not asserted.
 *
 *   node --import tsx scripts/reliability/load.ts [--duration 30] [--connections 64] [--max-queue 32] [--json FILE]
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { IncomingHttpHeaders } from 'node:http';
import { startAutocannon } from './autocannon-run.js';
import { loadCorpus } from '../bench/corpus.js';
import { percentile } from '../bench/stats.js';
import { findLeak } from './leaks.js';
import { serverErrors, sumMetric } from './prometheus.js';
import { finishRun } from './run-report.js';
import { REPO_ROOT, startServeChild, type ServeChild } from './serve-child.js';

export interface LoadOptions {
  durationSeconds: number;
  connections: number;
  /** --max-queue of the server: requests admitted (waiting or running) before 429. */
  maxQueue: number;
  /** Texts per batch request. */
  batchSize?: number;
  /** Gap between /metrics samples. */
  sampleIntervalMs?: number;
}

export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

export interface LoadReport {
  options: Required<LoadOptions>;
  seconds: number;
  /** Answers by status code. */
  statuses: Record<string, number>;
  /** Answers by request kind and status. */
  byKind: Record<RequestKind, Record<string, number>>;
  /** autocannon: connection errors, timeouts, resets. */
  errors: number;
  timeouts: number;
  resets: number;
  /** 200s whose body was not complete (wrong count of vectors or results). */
  incomplete: number;
  /** 429s without a Retry-After header. */
  missingRetryAfter: number;
  /** Bodies showing a stack frame, a source path or node_modules (scripts/reliability/leaks.ts). */
  leaks: number;
  /** 2xx per second, all answers per second. */
  okPerSecond: number;
  answersPerSecond: number;
  latency200: LatencySummary;
  latency429: LatencySummary;
  /** Highest corom_queue_requests (requests admitted) and corom_queue_depth (sequences waiting) seen. */
  maxAdmitted: number;
  maxQueuedSequences: number;
  metricSamples: number;
  /** 5xx by the server's own count. */
  server5xx: number;
  /** Lines of the server log that report an internal error. */
  internalErrors: string[];
  /** The server answered /health after the run. */
  aliveAfter: boolean;
}

export type RequestKind = 'single' | 'batch' | 'rerank';

function summarize(values: number[]): LatencySummary {
  if (values.length === 0) return { count: 0, p50: 0, p99: 0, p999: 0, max: 0 };
  return {
    count: values.length,
    p50: percentile(values, 50),
    p99: percentile(values, 99),
    p999: percentile(values, 99.9),
    max: Math.max(...values),
  };
}

/** Polls /metrics until stopped; keeps the highest admitted-request and queued-sequence counts. */
function sampleQueue(url: string, intervalMs: number): { stop(): Promise<{ maxAdmitted: number; maxQueuedSequences: number; samples: number }> } {
  let maxAdmitted = 0;
  let maxQueuedSequences = 0;
  let samples = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        const text = await (await fetch(`${url}metrics`, { signal: AbortSignal.timeout(5000) })).text();
        maxAdmitted = Math.max(maxAdmitted, sumMetric(text, 'corom_queue_requests'));
        maxQueuedSequences = Math.max(maxQueuedSequences, sumMetric(text, 'corom_queue_depth'));
        samples++;
      } catch {
        // A slow scrape under load is not a failure of the service; the next one counts.
      }
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { maxAdmitted, maxQueuedSequences, samples };
    },
  };
}

/** Drives an already running server. */
export async function loadServer(server: ServeChild, options: LoadOptions): Promise<LoadReport> {
  const resolved: Required<LoadOptions> = { batchSize: 256, sampleIntervalMs: 100, ...options };
  const { mixed, queries } = loadCorpus(resolve(REPO_ROOT, 'data/cmrc2018/cmrc2018_dev.json'), 2048);
  const batchBody = JSON.stringify({ input: mixed.slice(0, resolved.batchSize), encoding_format: 'base64' });
  const rerankBody = JSON.stringify({ query: queries[0], documents: mixed.slice(0, 16), top_n: 16 });

  const byKind: Record<RequestKind, Record<string, number>> = { single: {}, batch: {}, rerank: {} };
  let incomplete = 0;
  let missingRetryAfter = 0;
  let leaks = 0;
  const latencies = new Map<number, number[]>();
  let next = 0;

  const record = (kind: RequestKind, expected: (body: any) => boolean) => (status: number, body: string, _context: unknown, headers: IncomingHttpHeaders | undefined) => {
    byKind[kind][status] = (byKind[kind][status] ?? 0) + 1;
    if (status === 429 && !headers?.['retry-after']) missingRetryAfter++;
    if (findLeak(body)) leaks++;
    if (status === 200) {
      try {
        if (!expected(JSON.parse(body))) incomplete++;
      } catch {
        incomplete++;
      }
    }
  };
  const post = (path: string) => ({ method: 'POST' as const, path, headers: { 'content-type': 'application/json' } });
  const requests = [
    {
      ...post('/v1/embeddings'),
      setupRequest: (req: any) => ({ ...req, body: JSON.stringify({ input: queries[next++ % queries.length], encoding_format: 'float' }) }),
      onResponse: record('single', (b) => b.data?.length === 1 && b.data[0].embedding.length > 0),
    },
    { ...post('/v1/embeddings'), body: batchBody, onResponse: record('batch', (b) => b.data?.length === resolved.batchSize && b.data.every((d: any, i: number) => d.index === i)) },
    {
      ...post('/v1/embeddings'),
      setupRequest: (req: any) => ({ ...req, body: JSON.stringify({ input: queries[next++ % queries.length] }) }),
      onResponse: record('single', (b) => b.data?.length === 1),
    },
    { ...post('/v1/rerank'), body: rerankBody, onResponse: record('rerank', (b) => b.results?.length === 16) },
  ];

  const sampler = sampleQueue(server.url, resolved.sampleIntervalMs);
  const started = performance.now();
  const instance = startAutocannon({
    url: server.url.replace(/\/$/, ''),
    connections: resolved.connections,
    duration: resolved.durationSeconds,
    requests,
    timeout: 30,
  });
  instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    let list = latencies.get(status);
    if (!list) latencies.set(status, (list = []));
    list.push(ms);
  });
  const result = await instance;
  const seconds = (performance.now() - started) / 1000;
  const queue = await sampler.stop();

  const metrics = await (await fetch(`${server.url}metrics`)).text();
  const aliveAfter = await fetch(`${server.url}health`).then((r) => r.ok, () => false);
  const statuses: Record<string, number> = Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, s]) => [code, s.count ?? 0]));
  const total = Object.values(statuses).reduce((a, b) => a + b, 0);
  return {
    options: resolved,
    seconds,
    statuses,
    byKind,
    errors: result.errors,
    timeouts: result.timeouts,
    resets: result.resets,
    incomplete,
    missingRetryAfter,
    leaks,
    okPerSecond: (statuses['200'] ?? 0) / seconds,
    answersPerSecond: total / seconds,
    latency200: summarize(latencies.get(200) ?? []),
    latency429: summarize(latencies.get(429) ?? []),
    maxAdmitted: queue.maxAdmitted,
    maxQueuedSequences: queue.maxQueuedSequences,
    metricSamples: queue.samples,
    server5xx: serverErrors(metrics),
    internalErrors: server.stderr().split('\n').filter((l) => /internal error|inference failed/.test(l)),
    aliveAfter,
  };
}

/** Starts a server with --max-queue, loads it, stops it. */
export async function runLoad(options: LoadOptions): Promise<LoadReport> {
  const server = await startServeChild({ args: ['--max-queue', String(options.maxQueue)] });
  try {
    return await loadServer(server, options);
  } finally {
    await server.stop();
  }
}

const ms = (x: number): string => x.toFixed(1);

export function formatLoadReport(r: LoadReport): string {
  const kinds = (['single', 'batch', 'rerank'] as const)
    .map((k) => `${k}: ${Object.entries(r.byKind[k]).map(([s, n]) => `${n}x${s}`).join(' ') || 'none'}`)
    .join('; ');
  return [
    `load: ${r.options.connections} connections, ${r.seconds.toFixed(1)} s, --max-queue ${r.options.maxQueue}, batches of ${r.options.batchSize}`,
    '',
    '| figure | value |',
    '|---|---|',
    `| answers by status | ${Object.entries(r.statuses).map(([s, n]) => `${s}: ${n}`).join(', ')} |`,
    `| answers by kind | ${kinds} |`,
    `| throughput | ${r.okPerSecond.toFixed(0)} 200/s (${r.answersPerSecond.toFixed(0)} answers/s) |`,
    `| 200 latency p50 / p99 / p99.9 / max | ${ms(r.latency200.p50)} / ${ms(r.latency200.p99)} / ${ms(r.latency200.p999)} / ${ms(r.latency200.max)} ms |`,
    `| 429 latency p50 / p99 / p99.9 / max | ${ms(r.latency429.p50)} / ${ms(r.latency429.p99)} / ${ms(r.latency429.p999)} / ${ms(r.latency429.max)} ms (${r.latency429.count} answers) |`,
    `| 429 without Retry-After | ${r.missingRetryAfter} |`,
    `| incomplete 200 bodies | ${r.incomplete} |`,
    `| bodies leaking a stack or a path | ${r.leaks} |`,
    `| connection errors / timeouts / resets | ${r.errors} / ${r.timeouts} / ${r.resets} |`,
    `| 5xx (server's count) | ${r.server5xx} |`,
    `| max admitted requests (corom_queue_requests) | ${r.maxAdmitted} (limit ${r.options.maxQueue}; ${r.metricSamples} samples) |`,
    `| max queued sequences (corom_queue_depth) | ${r.maxQueuedSequences} |`,
    `| alive after the run | ${r.aliveAfter} |`,
  ].join('\n');
}

/** True when the report meets every condition in the header. */
export function loadProblems(r: LoadReport): string[] {
  const problems: string[] = [];
  const unexpected = Object.keys(r.statuses).filter((s) => s !== '200' && s !== '429');
  if (unexpected.length) problems.push(`unexpected statuses: ${unexpected.join(', ')}`);
  if (r.server5xx) problems.push(`${r.server5xx} 5xx answers`);
  if (r.errors || r.timeouts) problems.push(`${r.errors} connection errors, ${r.timeouts} timeouts`);
  if (r.incomplete) problems.push(`${r.incomplete} incomplete 200 bodies`);
  if (r.leaks) problems.push(`${r.leaks} bodies leak a stack or a path`);
  if (r.missingRetryAfter) problems.push(`${r.missingRetryAfter} 429s without Retry-After`);
  if (r.maxAdmitted > r.options.maxQueue) problems.push(`admitted ${r.maxAdmitted} requests, over --max-queue ${r.options.maxQueue}`);
  if (r.internalErrors.length) problems.push(`server logged: ${r.internalErrors[0]}`);
  if (!r.aliveAfter) problems.push('the server did not answer /health after the run');
  return problems;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { duration: { type: 'string', default: '30' }, connections: { type: 'string', default: '64' }, 'max-queue': { type: 'string', default: '32' }, json: { type: 'string' } },
  });
  const report = await runLoad({ durationSeconds: Number(values.duration), connections: Number(values.connections), maxQueue: Number(values['max-queue']) });
  finishRun('load', formatLoadReport(report), report, values.json, loadProblems(report));
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) await main();
