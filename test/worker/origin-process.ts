/**
 * Origins for the failover tests: a real `corom serve` (the built CLI, dist/src/cli/main.js, as a
 * GPU host would run it) on 127.0.0.1, and a stalling server that passes the health checks but
 * never answers a model request (a hung origin, to exercise the per-request timeout).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url));

export interface CoromOrigin {
  /** Base URL without a trailing slash, e.g. http://127.0.0.1:41234 */
  url: string;
  port: number;
  /** Kills the process (SIGKILL: an origin that dies, not one that drains) and waits for its exit. */
  kill(): Promise<void>;
}

/** Starts `corom serve --model DIR --port PORT ...` and resolves once it prints its ready line. */
export async function startCoromServe(options: { model: string; modelId: string; apiKey: string; port?: number }): Promise<CoromOrigin> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (npm test does)`);
  const args = [CLI, 'serve', '--model', options.model, '--model-id', options.modelId, '--dtype', 'fp32', '--api-key', options.apiKey];
  args.push('--port', String(options.port ?? 0), '--host', '127.0.0.1', '--threads', '1', '--drain-timeout-ms', '0');
  // No COROM_* from the developer's shell: the flags above are the whole configuration.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('COROM_')));
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    let stderr = '';
    const timer = setTimeout(() => fail(new Error(`corom serve did not get ready within 30 s:\n${stderr}`)), 30_000);
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(error);
    };
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      stderr += chunk;
      const match = /corom serve: (http:\/\/127\.0\.0\.1:\d+)\/? ready/.exec(stderr);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.once('exit', (code) => fail(new Error(`corom serve exited with ${code} before it was ready:\n${stderr}`)));
  });
  return { url, port: Number(new URL(url).port), kill: () => stop(child, exited) };
}

async function stop(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await exited;
}

export interface StallingOrigin {
  url: string;
  /** POSTs it received (and never answered). */
  readonly posts: number;
  close(): Promise<void>;
}

/** Answers /ready and /v1/models like a corom serve of `model` would, then hangs on every POST. */
export async function startStallingOrigin(model: { id: string; dimensions: number }): Promise<StallingOrigin> {
  const hanging = new Set<ServerResponse>();
  let posts = 0;
  const server: Server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/ready') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ready"}');
    if (req.method === 'GET' && req.url === '/v1/models') {
      const card = { id: model.id, object: 'model', dimensions: model.dimensions };
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data: [card] }));
    }
    posts++;
    hanging.add(res);
    res.once('close', () => hanging.delete(res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get posts() {
      return posts;
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
