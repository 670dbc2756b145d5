/**
 * The three denial-of-service attacks an outside review ran against `corom serve` (issue 14),
 * re-run with the same shapes against the real binary on 127.0.0.1 with the tiny fixture model,
 * and their figures written into docs/reliability.md (between the `attacks` markers):
 *
 *  1. validation cost: a 4.17 MB body of 1,390,000 empty lists (also 800k nulls, 950k `[1]`s), one
 *     at a time and eight at once: time to the 400, RSS growth, `/health` latency meanwhile; and,
 *     for reference, a body as big that is cheap to parse (the cost of moving 4 MB here);
 *  2. half-sent bodies: 400 connections each declaring Content-Length 4,190,000, sending ~4 MB and
 *     stalling: peak RSS, `/health` meanwhile, RSS after they close;
 *  3. SIGTERM under load: 24 concurrent requests of 2,048 x 128 token ids, SIGTERM after 3 s:
 *     how many got 200, 503, nothing; the exit code; the drain log line.
 *
 *   npm run build && node --import tsx scripts/reliability/attacks.ts [--only 1,2,3] [--no-write]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT, startServeChild, type ServeChild } from './serve-child.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Samples the server's RSS and `/health` latency until stopped. */
function watch(server: ServeChild): { stop(): Promise<{ peakRssMiB: number; healthMaxMs: number; healthFailures: number }> } {
  let running = true;
  let peak = 0;
  let healthMax = 0;
  let healthFailures = 0;
  const rss = (async () => {
    while (running) {
      try {
        peak = Math.max(peak, server.rssKiB() / 1024);
      } catch {
        /* the process may be exiting */
      }
      await sleep(20);
    }
  })();
  const health = (async () => {
    while (running) {
      const started = performance.now();
      try {
        const response = await fetch(new URL('/health', server.url), { signal: AbortSignal.timeout(30_000) });
        await response.arrayBuffer();
        if (!response.ok) healthFailures++;
      } catch {
        healthFailures++;
      }
      healthMax = Math.max(healthMax, performance.now() - started);
      await sleep(50);
    }
  })();
  return {
    async stop() {
      running = false;
      await Promise.all([rss, health]);
      return { peakRssMiB: peak, healthMaxMs: healthMax, healthFailures };
    },
  };
}

interface ValidationRow {
  body: string;
  bytes: number;
  concurrent: number;
  statuses: string;
  slowestMs: number;
  rssBeforeMiB: number;
  peakRssMiB: number;
  rssAfterMiB: number;
  healthMaxMs: number;
}

/**
 * POSTs `body` with node:http and resolves with the status once the answer has been read: a thin
 * client like curl, so the time is the server's and the wire's, not a fetch implementation's.
 */
function postBody(url: string, body: Buffer | string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(new URL('/v1/embeddings', url), { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.on('data', () => {});
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function validationCost(): Promise<ValidationRow[]> {
  // Bodies are encoded once: the client then only moves bytes, as curl would (a 4 MB string
  // re-encoded by fetch on every request cost the client ~50 ms, counted in the answer time).
  const bodies: Array<[string, Buffer]> = [
    ['1,390,000 x `[]`', Buffer.from(`{"input":[${'[],'.repeat(1_389_999)}[]]}`)],
    ['800,000 x `null`', Buffer.from(`{"input":[${'null,'.repeat(799_999)}null]}`)],
    ['950,000 x `[1]`', Buffer.from(`{"input":[${'[1],'.repeat(949_999)}[1]]}`)],
    // Reference: a body as big, cheap to parse (one string) and refused by a field check, i.e. what
    // moving and reading 4 MB costs on this machine; the three above cannot answer faster.
    ['reference: one 4.17 MB string, `input` a number', Buffer.from(`{"input":1,"user":"${'a'.repeat(4_169_983)}"}`)],
  ];
  const rows: ValidationRow[] = [];
  const server = await startServeChild();
  try {
    // A server that has answered before: one valid and one invalid request, so the first row does
    // not also pay for compiling the request path.
    // And one full-size attack body: the figures are for a server under attack, not its first request.
    for (const warmUp of ['{"input":"a"}', '{"input":[true]}', bodies[0]![1]]) {
      await postBody(server.url, warmUp);
    }
    for (const [label, body] of bodies) {
      // One at a time: three runs, the median one reported (a shared machine is noisy).
      for (const concurrent of label.startsWith('1,390') ? [1, 8] : [1]) {
        const runs: ValidationRow[] = [];
        for (let run = 0; run < (concurrent === 1 ? 3 : 1); run++) {
          await sleep(500);
          const before = server.rssKiB() / 1024;
          const watcher = watch(server);
          const started = performance.now();
          const answers = await Promise.all(
            Array.from({ length: concurrent }, async () => {
              const status = await postBody(server.url, body);
              return { status, ms: performance.now() - started };
            }),
          );
          const seen = await watcher.stop();
          await sleep(1000);
          const counts = new Map<number, number>();
          for (const a of answers) counts.set(a.status, (counts.get(a.status) ?? 0) + 1);
          runs.push({
            body: label,
            bytes: body.byteLength,
            concurrent,
            statuses: [...counts].map(([s, n]) => `${n} x ${s}`).join(', '),
            slowestMs: Math.max(...answers.map((a) => a.ms)),
            rssBeforeMiB: before,
            peakRssMiB: seen.peakRssMiB,
            rssAfterMiB: server.rssKiB() / 1024,
            healthMaxMs: seen.healthMaxMs,
          });
        }
        runs.sort((a, b) => a.slowestMs - b.slowestMs);
        rows.push(runs[runs.length >> 1]!);
      }
    }
  } finally {
    await server.stop();
  }
  return rows;
}

interface HalfSentReport {
  connections: number;
  declaredBytes: number;
  sentBytes: number;
  refused503: number;
  rssBeforeMiB: number;
  peakRssMiB: number;
  rssAfterCloseMiB: number;
  healthMaxMs: number;
  healthFailures: number;
}

async function halfSentBodies(connections = 400, declared = 4_190_000, sent = 4_000_000): Promise<HalfSentReport> {
  const server = await startServeChild();
  const sockets: Socket[] = [];
  let refused = 0;
  try {
    await sleep(500);
    const before = server.rssKiB() / 1024;
    const watcher = watch(server);
    const { port } = new URL(server.url);
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const head = Buffer.from(`POST /v1/embeddings HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${declared}\r\n\r\n{"input":"`, 'latin1');
    // Ten at a time, like a client pool: each sends its head and ~4 MB, then stalls.
    for (let start = 0; start < connections; start += 10) {
      await Promise.all(
        Array.from({ length: Math.min(10, connections - start) }, () =>
          new Promise<void>((done) => {
            const socket = connect({ host: '127.0.0.1', port: Number(port) });
            sockets.push(socket);
            socket.on('error', () => done());
            socket.on('data', (data: Buffer) => {
              if (/^HTTP\/1\.1 503/.test(data.toString('latin1'))) refused++;
            });
            socket.on('connect', async () => {
              socket.write(head);
              for (let written = 0; written < sent && !socket.destroyed; written += chunk.length) {
                if (!socket.write(chunk)) await new Promise((r) => socket.once('drain', r).once('close', r));
              }
              done();
            });
            setTimeout(done, 10_000);
          }),
        ),
      );
    }
    await sleep(3000);
    const seen = await watcher.stop();
    for (const socket of sockets) socket.destroy();
    await sleep(10_000);
    return {
      connections,
      declaredBytes: declared,
      sentBytes: sent,
      refused503: refused,
      rssBeforeMiB: before,
      peakRssMiB: seen.peakRssMiB,
      rssAfterCloseMiB: server.rssKiB() / 1024,
      healthMaxMs: seen.healthMaxMs,
      healthFailures: seen.healthFailures,
    };
  } finally {
    for (const socket of sockets) socket.destroy();
    await server.stop();
  }
}

interface SigtermReport {
  requests: number;
  ok200: number;
  refused503: number;
  withRetryAfter: number;
  unanswered: number;
  /** Why unanswered requests failed, by client error (ECONNREFUSED: never admitted). */
  unansweredErrors: string;
  exitCode: number | null;
  drainLine: string;
}

async function sigtermUnderLoad(requests = 24, drainTimeoutMs = 2000): Promise<SigtermReport> {
  const server = await startServeChild({ args: ['--drain-timeout-ms', String(drainTimeoutMs), '--max-batch-size', '256'] });
  const ids = Array.from({ length: 126 }, (_, i) => 1000 + (i % 5000));
  const body = JSON.stringify({ input: Array.from({ length: 2048 }, () => ids), encoding_format: 'base64' });
  const outcomes = Array.from({ length: requests }, async () => {
    try {
      const response = await fetch(new URL('/v1/embeddings', server.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(120_000) });
      await response.arrayBuffer();
      return { status: response.status, retryAfter: response.headers.get('retry-after') };
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      return { status: 0, retryAfter: null, error: cause?.code ?? cause?.message ?? String(error) };
    }
  });
  await sleep(3000);
  const status = await server.stop(60_000);
  const results = await Promise.all(outcomes);
  return {
    requests,
    ok200: results.filter((r) => r.status === 200).length,
    refused503: results.filter((r) => r.status === 503).length,
    withRetryAfter: results.filter((r) => r.status === 503 && r.retryAfter !== null).length,
    unanswered: results.filter((r) => r.status === 0).length,
    unansweredErrors: [...new Set(results.filter((r) => r.status === 0).map((r) => ('error' in r ? r.error : '')))].join(', '),
    exitCode: status.code,
    drainLine: /drain timeout reached[^\n]*/.exec(server.stderr())?.[0] ?? '(drained in time)',
  };
}

const mib = (n: number): string => n.toFixed(0);

function markdown(cpu: string, v: ValidationRow[] | undefined, h: HalfSentReport | undefined, s: SigtermReport | undefined): string {
  const lines = [
    `Measured by \`node --import tsx scripts/reliability/attacks.ts\` on ${cpu} (${cpus().length} cores), tiny fixture model, one ONNX thread, attacker on the same machine.`,
    '',
  ];
  if (v) {
    lines.push('| 1. validation cost: body to `/v1/embeddings` | bytes | at once | answers | slowest answer (one at a time: median of 3 runs) | RSS before -> peak -> after (MiB) | slowest `/health` meanwhile |', '|---|---|---|---|---|---|---|');
    for (const r of v) lines.push(`| ${r.body} | ${r.bytes.toLocaleString('en-US')} | ${r.concurrent} | ${r.statuses} | ${r.slowestMs.toFixed(0)} ms | ${mib(r.rssBeforeMiB)} -> ${mib(r.peakRssMiB)} -> ${mib(r.rssAfterMiB)} | ${r.healthMaxMs.toFixed(0)} ms |`);
    lines.push('');
  }
  if (h) {
    lines.push(
      '| 2. half-sent bodies | refused 503 | RSS before -> peak (MiB) | RSS 10 s after they closed | slowest `/health` meanwhile | `/health` failures |',
      '|---|---|---|---|---|---|',
      `| ${h.connections} connections declaring ${h.declaredBytes.toLocaleString('en-US')} bytes, sending ${h.sentBytes.toLocaleString('en-US')} and stalling | ${h.refused503} | ${mib(h.rssBeforeMiB)} -> ${mib(h.peakRssMiB)} | ${mib(h.rssAfterCloseMiB)} MiB | ${h.healthMaxMs.toFixed(0)} ms | ${h.healthFailures} |`,
      '',
    );
  }
  if (s) {
    lines.push(
      '| 3. SIGTERM under load | 200 | 503 (with Retry-After) | no answer | exit code | log |',
      '|---|---|---|---|---|---|',
      `| ${s.requests} concurrent requests of 2,048 x 128 token ids, SIGTERM after 3 s, \`--drain-timeout-ms 2000\` | ${s.ok200} | ${s.refused503} (${s.withRetryAfter}) | ${s.unanswered}${s.unanswered ? ` (${s.unansweredErrors})` : ''} | ${s.exitCode} | \`${s.drainLine}\` |`,
      '',
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { only: { type: 'string', default: '1,2,3' }, 'no-write': { type: 'boolean', default: false } } });
  const only = new Set(values.only!.split(','));
  const cpu = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? 'unknown CPU';
  const v = only.has('1') ? await validationCost() : undefined;
  const h = only.has('2') ? await halfSentBodies() : undefined;
  const s = only.has('3') ? await sigtermUnderLoad() : undefined;
  const report = markdown(cpu, v, h, s);
  console.log(report);
  if (values['no-write']) return;
  const file = resolve(REPO_ROOT, 'docs/reliability.md');
  const doc = readFileSync(file, 'utf8');
  const start = '<!-- attacks:start -->';
  const end = '<!-- attacks:end -->';
  const section = `${start}\n${report}\n${end}`;
  const next = doc.includes(start) ? doc.replace(new RegExp(`${start}[\\s\\S]*?${end}`), section) : `${doc.trimEnd()}\n\n## Outside attacks (issue 14), re-measured\n\n${section}\n`;
  writeFileSync(file, next);
  console.error(`wrote ${file}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
