/**
 * The HTTP server under load from another process: `corom serve` is started as a child process and
 * driven by autocannon from this one, single-text /v1/embeddings requests, batching on and off.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import autocannon from 'autocannon';

export interface LoadResult {
  requestsPerSec: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  total: number;
}

export async function startServer(bin: string, args: string[]): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [bin, 'serve', ...args, '--host', '127.0.0.1', '--port', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 120 s:\n${log}`)), 120_000);
    child.stderr!.on('data', (c: Buffer) => {
      log += c.toString();
      const m = /(http:\/\/\S+) ready/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!.replace(/\/$/, ''));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${log}`));
    });
  });
  return { url, child };
}

export async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  await Promise.race([once(child, 'exit'), new Promise((r) => setTimeout(r, 15_000))]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

/** Single-text /v1/embeddings requests, cycling through `texts`. */
export function loadTest(url: string, model: string, texts: string[], connections: number, seconds: number): Promise<LoadResult> {
  return postJsonUnderLoad(`${url}/v1/embeddings`, (i) => ({ model, input: texts[i % texts.length], encoding_format: 'base64' }), connections, seconds);
}

/**
 * POSTs JSON to `url` from `connections` connections for `seconds`, `body(i)` as the i-th request's
 * body; what autocannon measured. A request not answered within `timeoutSeconds` counts as an error.
 */
export async function postJsonUnderLoad(url: string, body: (i: number) => unknown, connections: number, seconds: number, timeoutSeconds = 10): Promise<LoadResult> {
  let next = 0;
  const result = await autocannon({
    url,
    connections,
    duration: seconds,
    timeout: timeoutSeconds,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        setupRequest: (req) => ({ ...req, body: JSON.stringify(body(next++)) }),
      },
    ],
  });
  return {
    requestsPerSec: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    total: result.requests.total,
  };
}
