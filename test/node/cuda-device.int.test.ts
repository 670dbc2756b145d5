/**
 * --device cuda on a machine without the CUDA provider files (this one; skipped where they are
 * installed): the fallback says what is missing and how to install it, /info names the provider
 * that runs, strict mode exits 69 with one line -- in-process (both the main-thread and the
 * worker-thread session) and as the built CLI -- and `npm run bench -- --device cuda` and
 * `npm run setup:cuda` refuse with one clear line. Nothing here runs on a GPU or claims to.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadEngine } from '../../src/engine/load.js';
import { parseServeConfig } from '../../src/node/serve-config.js';
import { cudaProviderLibraries, DeviceUnavailableError } from '../../src/runtime/ort-node-providers.js';
import { UsageError } from '../../src/errors.js';
import { convertedFixture } from '../helpers/fixture.js';

const MAIN = 'dist/src/cli/main.js';
const noCudaFiles = cudaProviderLibraries().missing.length > 0;
const MISSING = /libonnxruntime_providers_shared\.so and libonnxruntime_providers_cuda\.so not found in \S+/;

function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('COROM_'))), ...extra };
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

function spawnCorom(args: string[], env: NodeJS.ProcessEnv = {}): { child: ChildProcess; stderr: () => string; exit: Promise<number | null> } {
  expect(existsSync(MAIN), `${MAIN} is missing: run 'npm run build' first`).toBe(true);
  const child = spawn(process.execPath, [MAIN, ...args], { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let err = '';
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stderr: () => err, exit };
}

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('serve config: --require-device', () => {
  it('is off by default, on with the flag or COROM_REQUIRE_DEVICE=1, and rejects other values of the variable', () => {
    expect(parseServeConfig([], {}).requireDevice).toBe(false);
    expect(parseServeConfig(['--device', 'cuda', '--require-device'], {}).requireDevice).toBe(true);
    expect(parseServeConfig([], { COROM_REQUIRE_DEVICE: '1', COROM_DEVICE: 'cuda' })).toMatchObject({ requireDevice: true, device: 'cuda' });
    expect(parseServeConfig([], { COROM_REQUIRE_DEVICE: '0' }).requireDevice).toBe(false);
    expect(() => parseServeConfig([], { COROM_REQUIRE_DEVICE: 'yes please' })).toThrow(UsageError);
    expect(() => parseServeConfig([], { COROM_REQUIRE_DEVICE: 'yes please' })).toThrow(/COROM_REQUIRE_DEVICE must be 1 or 0/);
  });
});

describe.skipIf(!noCudaFiles)('--device cuda without the CUDA provider files', () => {
  for (const thread of [false, true]) {
    it(`falls back to the CPU with a backend label and one warning naming the missing files (${thread ? 'worker thread' : 'main thread'})`, async () => {
      const model = await convertedFixture('fp32');
      const lines: string[] = [];
      const engine = await loadEngine({ model, dtype: 'fp32', threads: 1, device: 'cuda', thread, log: (l) => lines.push(l) });
      try {
        expect(engine.info.backend).toMatch(/^onnxruntime-node\/cpu \(cuda unavailable: libonnxruntime_providers_shared\.so and libonnxruntime_providers_cuda\.so not found in [^,]+\)$/);
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatch(MISSING);
        expect(lines[0]).toContain("'npm run setup:cuda'");
        expect((await engine.embed(['你好']))[0]).toHaveLength(32); // it really runs, on the CPU
      } finally {
        await engine.close();
      }
    });

    it(`requireDevice rejects with DeviceUnavailableError, exit code 69 (${thread ? 'worker thread' : 'main thread'})`, async () => {
      const model = await convertedFixture('fp32');
      const failure = await loadEngine({ model, dtype: 'fp32', threads: 1, device: 'cuda', requireDevice: true, thread }).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(failure).toBeInstanceOf(DeviceUnavailableError);
      expect((failure as DeviceUnavailableError).exitCode).toBe(69);
      expect((failure as Error).message).toMatch(MISSING);
      expect((failure as Error).message).toContain('run npm run setup:cuda on a GPU host');
    });
  }

  it('corom serve --device cuda: the startup line names the missing library and the install command; /info shows the CPU provider', async () => {
    const model = await convertedFixture('fp32');
    const run = spawnCorom(['serve', '--model', model, '--model-id', 'tiny', '--dtype', 'fp32', '--port', '0', '--threads', '1', '--device', 'cuda']);
    const url = await waitFor('the ready line', () => /(http:\/\/127\.0\.0\.1:\d+\/) ready/.exec(run.stderr())?.[1]);
    const lines = run.stderr().trim().split('\n');
    const fallback = lines.filter((l) => l.includes('CUDA execution provider unavailable'));
    expect(fallback).toHaveLength(1);
    expect(fallback[0]).toMatch(/^corom serve: --device cuda: CUDA execution provider unavailable \(/);
    expect(fallback[0]).toMatch(MISSING);
    expect(fallback[0]).toContain("Install it with 'npm run setup:cuda'");
    expect(run.stderr()).toMatch(/ready: embedding model 'tiny' \(fp32, onnxruntime-node\/cpu \(cuda unavailable: /);
    const info = (await (await fetch(`${url}info`)).json()) as { models: { id: string; backend: string }[] };
    expect(info.models[0]!.backend).toMatch(/^onnxruntime-node\/cpu \(cuda unavailable: .*libonnxruntime_providers_cuda\.so/);
    run.child.kill('SIGTERM');
    expect(await run.exit).toBe(0);
  });

  for (const [how, args, env] of [
    ['--require-device', ['--device', 'cuda', '--require-device'], {}],
    ['COROM_DEVICE=cuda COROM_REQUIRE_DEVICE=1', [], { COROM_DEVICE: 'cuda', COROM_REQUIRE_DEVICE: '1' }],
  ] as const) {
    it(`corom serve strict mode (${how}) exits 69 with one line, before listening`, async () => {
      const model = await convertedFixture('fp32');
      const run = spawnCorom(['serve', '--model', model, '--dtype', 'fp32', '--port', '0', '--threads', '1', ...args], env);
      expect(await run.exit).toBe(69);
      const lines = run.stderr().trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^corom serve: --device cuda --require-device: CUDA execution provider unavailable: /);
      expect(lines[0]).toMatch(MISSING);
      expect(lines[0]).toContain('run npm run setup:cuda on a GPU host');
    });
  }

  it('npm run bench -- --device cuda refuses with one line before measuring and writes nothing', async () => {
    const out = await mkdtemp(join(tmpdir(), 'corom-bench-cuda-'));
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = execFile(process.execPath, ['--import', 'tsx', 'scripts/bench.ts', '--device', 'cuda', '--out', out], { timeout: 120_000 }, (_err, stdout, stderr) =>
        resolve({ code: child.exitCode, stdout, stderr }),
      );
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^bench: CUDA execution provider unavailable: .+; run npm run setup:cuda on a GPU host$/);
    expect(await readdir(out)).toEqual([]);
  });
});

describe('npm run setup:cuda when the download is impossible', () => {
  let proxy: Server | undefined;
  afterEach(() => proxy?.close());

  const setup = (env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number | null; stderr: string }> =>
    new Promise((resolve) => {
      const child = execFile(process.execPath, ['scripts/setup-cuda.mjs', '--timeout-ms', String(timeoutMs)], { env: cleanEnv(env), timeout: 60_000 }, (_err, _stdout, stderr) =>
        resolve({ code: child.exitCode, stderr }),
      );
    });

  // A proxy on 127.0.0.1 that refuses (closed port) or never answers: onnxruntime-node's installer
  // honours GLOBAL_AGENT_*_PROXY, so the test never leaves loopback and never downloads.
  it('exits 1 with a FAILED line naming the cause when nuget cannot be reached', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const { code, stderr } = await setup({ GLOBAL_AGENT_HTTP_PROXY: `http://127.0.0.1:${port}`, GLOBAL_AGENT_HTTPS_PROXY: `http://127.0.0.1:${port}` }, 30_000);
    expect(code).toBe(1);
    const failed = stderr.split('\n').filter((l) => l.startsWith('setup:cuda: FAILED'));
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatch(/could not download the CUDA provider \(Error: connect ECONNREFUSED 127\.0\.0\.1:\d+\)/);
    expect(failed[0]).toContain('api.nuget.org');
  });

  it('exits 1 with a FAILED line when the installer exceeds --timeout-ms', async () => {
    proxy = createServer(() => {}); // accepts, never answers
    await new Promise<void>((r) => proxy!.listen(0, '127.0.0.1', r));
    const port = (proxy.address() as { port: number }).port;
    const { code, stderr } = await setup({ GLOBAL_AGENT_HTTP_PROXY: `http://127.0.0.1:${port}`, GLOBAL_AGENT_HTTPS_PROXY: `http://127.0.0.1:${port}` }, 1500);
    expect(code).toBe(1);
    expect(stderr).toMatch(/^setup:cuda: FAILED: onnxruntime-node's installer did not finish within 1500 ms \(killed\)/m);
  });

  it('rejects a bad --timeout-ms', async () => {
    const { code, stderr } = await setup({}, 0);
    expect(code).toBe(1);
    expect(stderr.trim()).toBe("setup:cuda: FAILED: --timeout-ms must be a positive integer (got '0')");
  });
});
