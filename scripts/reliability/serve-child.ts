/**
 * `corom serve` as a child process on 127.0.0.1 (the built binary, dist/src/cli/main.js), for the
 * reliability scripts and tests: waits for the startup line, keeps its stderr, reads its resident
 * memory from /proc, and stops it (SIGTERM, then SIGKILL after a bound).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { convertCheckpoint } from '../../src/store/convert.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const COROM_BIN = resolve(REPO_ROOT, 'dist/src/cli/main.js');
export const FIXTURE_CHECKPOINT = resolve(REPO_ROOT, 'test/fixtures/tiny-bert');

let converted: { dir: string; ready: Promise<string> } | undefined;

/** The tiny-bert fixture converted to fp32 ONNX once per process, in a temp folder. */
export function fixtureModel(): Promise<string> {
  if (!converted) {
    const dir = mkdtempSync(join(tmpdir(), 'corom-reliability-model-'));
    process.once('exit', removeFixtureModel);
    converted = { dir, ready: convertCheckpoint(FIXTURE_CHECKPOINT, dir, { dtype: 'fp32' }).then(() => dir) };
  }
  return converted.ready;
}

/** Deletes the converted fixture (test runners may end a worker without an 'exit' event). */
export function removeFixtureModel(): void {
  if (converted) rmSync(converted.dir, { recursive: true, force: true });
  converted = undefined;
}

/** The environment without the caller's COROM_* settings, plus `extra`. */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('COROM_'))), ...extra };
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** performance.now() when the process exited. */
  at: number;
}

export interface CoromProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  stderr(): string;
  stdout(): string;
  readonly exit: Promise<ExitStatus>;
}

/** Spawns `node dist/src/cli/main.js <args>` (stdin closed, stdout and stderr kept). */
export function spawnCorom(args: string[], env: NodeJS.ProcessEnv = cleanEnv()): CoromProcess {
  if (!existsSync(COROM_BIN)) throw new Error(`${COROM_BIN} is missing: run 'npm run build' first`);
  const child = spawn(process.execPath, [COROM_BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  let out = '';
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exit = new Promise<ExitStatus>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, at: performance.now() })));
  if (child.pid === undefined) throw new Error(`cannot spawn ${process.execPath} ${COROM_BIN}`);
  return { child, pid: child.pid, stderr: () => err, stdout: () => out, exit };
}

export interface ServeChild extends CoromProcess {
  /** http://127.0.0.1:PORT/ */
  readonly url: string;
  /** Resident memory of the server process in KiB (VmRSS of /proc/<pid>/status). */
  rssKiB(): number;
  /** SIGTERM, wait up to `timeoutMs` for the exit, then SIGKILL. Resolves with the exit status. */
  stop(timeoutMs?: number): Promise<ExitStatus>;
}

export interface ServeChildOptions {
  /** Model folder; default: the converted fixture. */
  model?: string;
  /** More `corom serve` flags (--max-queue, --api-key ...). */
  args?: string[];
  env?: NodeJS.ProcessEnv;
  /** How long to wait for the ready line. */
  startTimeoutMs?: number;
}

export function readRssKiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (!match) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]);
}

/** Starts `corom serve` on a free loopback port with one ONNX thread and waits until it is ready. */
export async function startServeChild(options: ServeChildOptions = {}): Promise<ServeChild> {
  const model = options.model ?? (await fixtureModel());
  const args = ['serve', '--model', model, '--dtype', 'fp32', '--host', '127.0.0.1', '--port', '0', '--threads', '1', ...(options.args ?? [])];
  const proc = spawnCorom(args, options.env ?? cleanEnv());
  const timeoutMs = options.startTimeoutMs ?? 60_000;
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.child.kill('SIGKILL');
      reject(new Error(`corom serve was not ready within ${timeoutMs} ms:\n${proc.stderr()}`));
    }, timeoutMs);
    const onData = (): void => {
      const match = /(http:\/\/127\.0\.0\.1:\d+\/) ready/.exec(proc.stderr());
      if (!match) return;
      clearTimeout(timer);
      proc.child.stderr!.off('data', onData);
      resolve(match[1]!);
    };
    proc.child.stderr!.on('data', onData);
    void proc.exit.then((status) => {
      clearTimeout(timer);
      reject(new Error(`corom serve exited (code ${status.code}, signal ${status.signal}) before it was ready:\n${proc.stderr()}`));
    });
  });
  return {
    ...proc,
    url,
    rssKiB: () => readRssKiB(proc.pid),
    async stop(stopTimeoutMs = 15_000) {
      if (proc.child.exitCode !== null || proc.child.signalCode !== null) return proc.exit;
      proc.child.kill('SIGTERM');
      const timer = setTimeout(() => proc.child.kill('SIGKILL'), stopTimeoutMs);
      const status = await proc.exit;
      clearTimeout(timer);
      return status;
    },
  };
}
