/**
 * What `npm start` runs (package.json "start", after its build): with COROM_MODEL pointing at the
 * fixture checkout it serves it; offline with nothing cached it says how to provide the model, in
 * one line, and exits non-zero.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { cp, mkdtemp, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURE_DIR } from '../helpers/fixture.js';

async function startCommand(): Promise<string[]> {
  const pkg = JSON.parse(await readFile('package.json', 'utf8')) as { scripts: Record<string, string> };
  const [node, ...args] = pkg.scripts.start!.split(' ');
  expect(node).toBe('node');
  return args;
}

/** A port on 127.0.0.1 with nothing listening: a hub that cannot be reached, without any network. */
async function closedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  server.close();
  await once(server, 'close');
  return port;
}

describe('npm start', () => {
  it('serves the checkout COROM_MODEL points at', async () => {
    const model = await mkdtemp(join(tmpdir(), 'corom-start-model-'));
    await cp(FIXTURE_DIR, model, { recursive: true });
    const child = spawn(process.execPath, await startCommand(), {
      env: { ...process.env, COROM_MODEL: model, COROM_PORT: '0', COROM_HOME: await mkdtemp(join(tmpdir(), 'corom-start-home-')) },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`not ready in 60 s:\n${log}`)), 60_000);
        child.stderr!.on('data', (c: Buffer) => {
          log += c.toString();
          const m = /(http:\/\/127\.0\.0\.1:\d+)\/? ready/.exec(log);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]!);
          }
        });
        child.once('exit', (code) => reject(new Error(`exited ${code}:\n${log}`)));
      });
      const models = (await (await fetch(`${url}/v1/models`)).json()) as { data: { id: string; dimensions: number }[] };
      expect(models.data[0]).toMatchObject({ dimensions: 32 });
      const res = await fetch(`${url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ input: '功和功率的区别' }) });
      expect(res.status).toBe(200);
    } finally {
      child.kill('SIGTERM');
      const [code] = await once(child, 'exit');
      expect(code).toBe(0);
    }
  }, 90_000);

  it('offline with nothing cached: one line saying how to provide the model, non-zero exit', async () => {
    const child = spawn(process.execPath, await startCommand(), {
      env: {
        ...process.env,
        COROM_MODEL: '',
        COROM_HOME: await mkdtemp(join(tmpdir(), 'corom-start-empty-')),
        COROM_HUB_URL: `http://127.0.0.1:${await closedPort()}`,
        COROM_HUB_RETRIES: '0',
        COROM_PORT: '0',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const [code] = await once(child, 'exit');
    expect(code).not.toBe(0);
    const lines = stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/COROM_MODEL=\/path\/to\/model/);
    expect(stderr).not.toMatch(/\n\s+at /);
  }, 60_000);
});
