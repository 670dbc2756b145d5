/**
 * `corom serve` as a real process (dist/, built by `npm test`'s pretest): startup line, graceful
 * SIGTERM drain, and one clear line with a non-zero exit for a bad model folder.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, copyFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FIXTURE_MODEL } from './server-helpers.js';

const MAIN = 'dist/src/cli/main.js';

/** The environment without COROM_* settings of whoever runs the tests. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('COROM_')));
}

interface Run {
  child: ChildProcess;
  stderr: () => string;
  exit: Promise<number | null>;
}

const running: ChildProcess[] = [];
afterEach(() => {
  for (const child of running.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

function corom(args: string[]): Run {
  expect(existsSync(MAIN), `${MAIN} is missing: run 'npm run build' first`).toBe(true);
  const child = spawn(process.execPath, [MAIN, ...args], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  running.push(child);
  let err = '';
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stderr: () => err, exit };
}

async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function metricValue(text: string, prefix: string): number {
  const line = text.split('\n').find((l) => l.startsWith(prefix));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('corom serve (process)', () => {
  it('prints one startup line with the URL, drains in-flight requests on SIGTERM and exits 0', async () => {
    const run = corom(['serve', '--model', FIXTURE_MODEL, '--dtype', 'fp32', '--port', '0', '--threads', '1', '--drain-timeout-ms', '20000']);
    const url = await waitFor('the ready line', () => /(http:\/\/127\.0\.0\.1:\d+\/) ready/.exec(run.stderr())?.[1]);
    expect(run.stderr()).toMatch(/ready: embedding model 'tiny-bert' \(fp32, onnxruntime-node\/cpu, 32 dims, max 128 tokens\)/);

    // Four slow requests (200 long texts each); SIGTERM once the server holds all of them.
    const texts = Array.from({ length: 200 }, (_, i) => `${'吃完海鲜可以喝牛奶吗'.repeat(13)}${i}`);
    const inFlight = Array.from({ length: 4 }, () =>
      fetch(`${url}v1/embeddings`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ input: texts }) }).then(
        async (res) => ({ status: res.status, count: ((await res.json()) as { data?: unknown[] }).data?.length }),
      ),
    );
    await waitFor('all four requests admitted', async () => {
      const metrics = await (await fetch(`${url}metrics`)).text();
      const admitted = metricValue(metrics, 'corom_queue_requests{model="tiny-bert"}');
      const done = metricValue(metrics, 'corom_http_requests_total{route="/v1/embeddings",method="POST",status="200"}');
      return admitted + done >= 4 && admitted > 0 ? true : undefined;
    });
    run.child.kill('SIGTERM');
    const results = await Promise.all(inFlight);
    expect(results).toEqual(Array.from({ length: 4 }, () => ({ status: 200, count: 200 })));
    expect(await run.exit).toBe(0);
    expect(run.stderr()).toMatch(/shutting down: draining [1-9]\d* in-flight request/);
    expect(run.stderr().match(/ ready: /g)).toHaveLength(1);
    await expect(fetch(`${url}health`)).rejects.toThrow();
  }, 40_000);

  it('a missing model folder: one clear line, exit code 2, no stack', async () => {
    const run = corom(['serve', '--model', '/nonexistent/corom-model', '--port', '0']);
    expect(await run.exit).toBe(2);
    const lines = run.stderr().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^corom serve: --model=\/nonexistent\/corom-model: no such folder/);
  });

  it('a folder with corrupt weights: one clear line, non-zero exit, no stack', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'corom-bad-'));
    try {
      copyFileSync(join(FIXTURE_MODEL, 'config.json'), join(dir, 'config.json'));
      copyFileSync(join(FIXTURE_MODEL, 'vocab.txt'), join(dir, 'vocab.txt'));
      writeFileSync(join(dir, 'pytorch_model.bin'), Buffer.from('this is not a checkpoint'));
      const run = corom(['serve', '--model', dir, '--port', '0', '--dtype', 'fp32']);
      const code = await run.exit;
      expect(code).not.toBe(0);
      const errorLines = run.stderr().trim().split('\n').filter((l) => !/converting .* to ONNX/.test(l));
      expect(errorLines).toHaveLength(1);
      expect(errorLines[0]).toMatch(/^corom serve: .*pytorch_model\.bin: /);
      expect(run.stderr()).not.toMatch(/^\s+at /m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
