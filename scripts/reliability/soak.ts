/**
 * Soak test: many requests against one `corom serve` process (fixture model), sampling its
 * resident memory (VmRSS) as the count grows, then a graceful stop under load.
 *
 * What must hold (checked by test/reliability/soak.test.ts on a shorter run):
 *   - every request is answered 200 with a complete body;
 *   - RSS at the end is less than 10% above RSS after the warm-up;
 *   - SIGTERM while requests are in flight: each of them still gets a complete 200, the process
 *     exits with code 0 by itself (no leaked timer or handle keeps it alive), within the drain
 *     timeout.
 *
 *   node --import tsx scripts/reliability/soak.ts [--requests 20000] [--connections 16] [--json FILE]
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startAutocannon } from './autocannon-run.js';
import { loadCorpus } from '../bench/corpus.js';
import { findLeak } from './leaks.js';
import { serverErrors, sumMetric } from './prometheus.js';
import { finishRun } from './run-report.js';
import { REPO_ROOT, startServeChild, type ServeChild } from './serve-child.js';

export interface SoakOptions {
  requests: number;
  connections: number;
  /** Requests before the baseline RSS is taken (default: a fifth of them). */
  warmupRequests?: number;
  /** In-flight requests when SIGTERM is sent. */
  inFlightAtStop?: number;
  /** --drain-timeout-ms of the server. */
  drainTimeoutMs?: number;
}

export interface RssSample {
  requests: number;
  rssKiB: number;
}

export interface ShutdownReport {
  inFlight: number;
  /** In-flight requests that got a complete 200. */
  completed: number;
  failures: string[];
  exitCode: number | null;
  signal: string | null;
  /** SIGTERM to exit. */
  exitMs: number;
  drainTimeoutMs: number;
  /** The server said its drain timed out (it had to cut connections). */
  drainTimedOut: boolean;
}

export interface SoakReport {
  options: Required<SoakOptions>;
  seconds: number;
  statuses: Record<string, number>;
  errors: number;
  timeouts: number;
  incomplete: number;
  /** Bodies showing a stack frame, a source path or node_modules (scripts/reliability/leaks.ts). */
  leaks: number;
  server5xx: number;
  samples: RssSample[];
  baselineKiB: number;
  finalKiB: number;
  peakAfterWarmupKiB: number;
  /** finalKiB / baselineKiB - 1 */
  growth: number;
  shutdown: ShutdownReport;
  internalErrors: string[];
}

/** Mixed request bodies, so every route and both encodings stay in the loop. */
function requestMix(next: () => number) {
  const { mixed, queries } = loadCorpus(resolve(REPO_ROOT, 'data/cmrc2018/cmrc2018_dev.json'), 512);
  const post = (path: string) => ({ method: 'POST' as const, path, headers: { 'content-type': 'application/json' } });
  const pick = (list: string[], n: number): string[] => {
    const start = next() % list.length;
    return Array.from({ length: n }, (_, i) => list[(start + i) % list.length]!);
  };
  return {
    queries,
    mixed,
    requests: [
      { ...post('/v1/embeddings'), kind: 'single', setupRequest: (r: any) => ({ ...r, body: JSON.stringify({ input: pick(queries, 1)[0], encoding_format: 'float' }) }) },
      { ...post('/v1/embeddings'), kind: 'batch', setupRequest: (r: any) => ({ ...r, body: JSON.stringify({ input: pick(mixed, 16) }) }) },
      { ...post('/v1/rerank'), kind: 'rerank', setupRequest: (r: any) => ({ ...r, body: JSON.stringify({ query: pick(queries, 1)[0], documents: pick(mixed, 8), return_documents: true }) }) },
      {
        ...post('/v1/sentence-embedding'),
        kind: 'pipeline',
        setupRequest: (r: any) => ({ ...r, body: JSON.stringify({ input: { source_sentence: pick(queries, 1), sentences_to_compare: pick(mixed, 3) } }) }),
      },
      { ...post('/tokenize'), kind: 'tokenize', setupRequest: (r: any) => ({ ...r, body: JSON.stringify({ inputs: pick(queries, 4) }) }) },
      { ...post('/v1/embeddings'), kind: 'single-base64', setupRequest: (r: any) => ({ ...r, body: JSON.stringify({ input: pick(queries, 2), dimensions: 16 }) }) },
    ],
  };
}

const COMPLETE: Record<string, (body: any) => boolean> = {
  single: (b) => b.data?.length === 1,
  batch: (b) => b.data?.length === 16,
  rerank: (b) => b.results?.length === 8 && b.results.every((r: any) => typeof r.document?.text === 'string'),
  pipeline: (b) => b.text_embedding?.length === 4 && b.scores?.length === 3,
  tokenize: (b) => b.data?.length === 4,
  'single-base64': (b) => b.data?.length === 2 && b.data[0].embedding.length === 16,
};

/** SIGTERM while `count` large requests are in flight; each must still get a complete 200. */
export async function stopUnderLoad(server: ServeChild, texts: string[], count: number, drainTimeoutMs: number): Promise<ShutdownReport> {
  const batch = Array.from({ length: 256 }, (_, i) => texts[i % texts.length]!);
  const inFlight = Array.from({ length: count }, () =>
    fetch(`${server.url}v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ input: batch }) }).then(
      async (res) => {
        const body = (await res.json()) as { data?: unknown[] };
        return res.status === 200 && body.data?.length === batch.length ? 'ok' : `status ${res.status}, ${body.data?.length ?? 0} vectors`;
      },
      (err: unknown) => `no answer: ${err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err)}`,
    ),
  );
  // SIGTERM only once the server holds every one of them (admitted or already answered).
  const deadline = performance.now() + 10_000;
  for (;;) {
    const metrics = await (await fetch(`${server.url}metrics`)).text();
    const admitted = sumMetric(metrics, 'corom_queue_requests');
    const answered = sumMetric(metrics, 'corom_http_requests_total', (l) => l.route === '/v1/embeddings' && l.status === '200');
    if (admitted > 0 && admitted >= count) break;
    if (performance.now() > deadline) throw new Error(`the server did not admit ${count} requests within 10 s (admitted ${admitted}, answered ${answered})`);
    await new Promise((r) => setTimeout(r, 5));
  }
  const signalled = performance.now();
  server.child.kill('SIGTERM');
  const outcomes = await Promise.all(inFlight);
  const exit = await Promise.race([server.exit, new Promise<undefined>((r) => setTimeout(r, drainTimeoutMs + 10_000))]);
  if (!exit) server.child.kill('SIGKILL');
  return {
    inFlight: count,
    completed: outcomes.filter((o) => o === 'ok').length,
    failures: outcomes.filter((o) => o !== 'ok'),
    exitCode: exit?.code ?? null,
    signal: exit?.signal ?? 'none (killed after the drain timeout + 10 s)',
    exitMs: exit ? exit.at - signalled : Infinity,
    drainTimeoutMs,
    drainTimedOut: /drain timeout reached/.test(server.stderr()),
  };
}

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const resolved: Required<SoakOptions> = {
    // RSS climbs for the first ~1500 requests (V8 heap sizing, onnxruntime's arena meeting new shapes).
    warmupRequests: Math.max(Math.floor(options.requests / 10), Math.min(1500, Math.floor(options.requests / 2))),
    inFlightAtStop: 8,
    drainTimeoutMs: 20_000,
    ...options,
  };
  const server = await startServeChild({ args: ['--drain-timeout-ms', String(resolved.drainTimeoutMs)] });
  try {
    let counter = 0;
    const mix = requestMix(() => counter++);
    const statuses: Record<string, number> = {};
    let incomplete = 0;
    let leaks = 0;
    const requests = mix.requests.map(({ kind, ...request }) => ({
      ...request,
      onResponse: (status: number, body: string) => {
        statuses[status] = (statuses[status] ?? 0) + 1;
        if (findLeak(body)) leaks++;
        if (status !== 200) return;
        try {
          if (!COMPLETE[kind]!(JSON.parse(body))) incomplete++;
        } catch {
          incomplete++;
        }
      },
    }));

    let answered = 0;
    const samples: RssSample[] = [{ requests: 0, rssKiB: server.rssKiB() }];
    const started = performance.now();
    const instance = startAutocannon({ url: server.url.replace(/\/$/, ''), connections: resolved.connections, amount: resolved.requests, requests, timeout: 30 });
    instance.on('response', () => answered++);
    let died: Error | undefined;
    const sampler = setInterval(() => {
      try {
        samples.push({ requests: answered, rssKiB: server.rssKiB() });
      } catch {
        // /proc/<pid> is gone: the server died mid-run; stop the load and say so.
        died ??= new Error(`the server process died during the soak (exit ${server.child.exitCode}, signal ${server.child.signalCode}):\n${server.stderr()}`);
        instance.stop();
      }
    }, 200);
    const result = await instance;
    clearInterval(sampler);
    if (died) throw died;
    const seconds = (performance.now() - started) / 1000;
    samples.push({ requests: answered, rssKiB: server.rssKiB() });

    const afterWarmup = samples.filter((s) => s.requests >= resolved.warmupRequests);
    const baselineKiB = afterWarmup[0]?.rssKiB ?? samples[samples.length - 1]!.rssKiB;
    // The end of the run: the median of the last three samples, so one GC moment does not decide.
    const last = samples.slice(-3).map((s) => s.rssKiB).sort((a, b) => a - b);
    const finalKiB = last[Math.floor(last.length / 2)]!;
    const metrics = await (await fetch(`${server.url}metrics`)).text();
    const server5xx = serverErrors(metrics);
    const shutdown = await stopUnderLoad(server, mix.mixed, resolved.inFlightAtStop, resolved.drainTimeoutMs);
    return {
      options: resolved,
      seconds,
      statuses,
      errors: result.errors,
      timeouts: result.timeouts,
      incomplete,
      leaks,
      server5xx,
      samples,
      baselineKiB,
      finalKiB,
      peakAfterWarmupKiB: Math.max(...afterWarmup.map((s) => s.rssKiB)),
      growth: finalKiB / baselineKiB - 1,
      shutdown,
      internalErrors: server.stderr().split('\n').filter((l) => /internal error|inference failed/.test(l)),
    };
  } finally {
    await server.stop();
  }
}

/** About `rows` evenly spaced samples of the curve, first and last included. */
export function rssTable(samples: RssSample[], rows = 12): string {
  const step = Math.max(1, Math.floor((samples.length - 1) / (rows - 1)));
  const picked = samples.filter((_, i) => i % step === 0 || i === samples.length - 1);
  return ['| requests answered | server RSS (MiB) |', '|---:|---:|', ...picked.map((s) => `| ${s.requests} | ${(s.rssKiB / 1024).toFixed(1)} |`)].join('\n');
}

export function formatSoakReport(r: SoakReport): string {
  const mib = (k: number): string => (k / 1024).toFixed(1);
  const s = r.shutdown;
  return [
    `soak: ${r.options.requests} requests, ${r.options.connections} connections, ${r.seconds.toFixed(1)} s (${(r.options.requests / r.seconds).toFixed(0)} req/s), warm-up ${r.options.warmupRequests}`,
    '',
    rssTable(r.samples),
    '',
    '| figure | value |',
    '|---|---|',
    `| answers by status | ${Object.entries(r.statuses).map(([k, n]) => `${k}: ${n}`).join(', ')} |`,
    `| incomplete 200 bodies / connection errors / timeouts / 5xx / leaking bodies | ${r.incomplete} / ${r.errors} / ${r.timeouts} / ${r.server5xx} / ${r.leaks} |`,
    `| RSS after warm-up -> end (peak) | ${mib(r.baselineKiB)} -> ${mib(r.finalKiB)} MiB (${mib(r.peakAfterWarmupKiB)}), growth ${(r.growth * 100).toFixed(1)}% |`,
    `| SIGTERM with ${s.inFlight} requests in flight | ${s.completed} complete 200s${s.failures.length ? `, failures: ${s.failures.join('; ')}` : ''} |`,
    `| exit | code ${s.exitCode}, ${s.exitMs.toFixed(0)} ms after SIGTERM (drain timeout ${s.drainTimeoutMs} ms${s.drainTimedOut ? ', REACHED' : ''}) |`,
  ].join('\n');
}

export function soakProblems(r: SoakReport): string[] {
  const problems: string[] = [];
  const other = Object.keys(r.statuses).filter((k) => k !== '200');
  if (other.length) problems.push(`non-200 answers: ${other.map((k) => `${r.statuses[k]}x${k}`).join(', ')}`);
  if (r.leaks) problems.push(`${r.leaks} bodies leak a stack or a path`);
  if (r.incomplete || r.errors || r.timeouts || r.server5xx) problems.push(`${r.incomplete} incomplete, ${r.errors} errors, ${r.timeouts} timeouts, ${r.server5xx} 5xx`);
  if (r.growth >= 0.1) problems.push(`RSS grew ${(r.growth * 100).toFixed(1)}% after warm-up`);
  const s = r.shutdown;
  if (s.completed !== s.inFlight) problems.push(`${s.inFlight - s.completed} in-flight requests lost at SIGTERM: ${s.failures.join('; ')}`);
  if (s.exitCode !== 0) problems.push(`exit code ${s.exitCode} (signal ${s.signal})`);
  if (!(s.exitMs < s.drainTimeoutMs) || s.drainTimedOut) problems.push(`exit took ${s.exitMs.toFixed(0)} ms (drain timeout ${s.drainTimeoutMs} ms)`);
  if (r.internalErrors.length) problems.push(`server logged: ${r.internalErrors[0]}`);
  return problems;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { requests: { type: 'string', default: '20000' }, connections: { type: 'string', default: '16' }, json: { type: 'string' } } });
  const report = await runSoak({ requests: Number(values.requests), connections: Number(values.connections) });
  finishRun('soak', formatSoakReport(report), report, values.json, soakProblems(report));
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) await main();
