/** `corom serve` in the test's own process: runServer, the CLI's code, on the arguments given. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { RunningServer } from '../../src/node/http-server.js';
import { runServer } from '../../src/node/serve.js';
import { parseServeConfig } from '../../src/node/serve-config.js';

export interface InProcessServer {
  server: RunningServer;
  /** Shuts the server down and waits until it has. */
  stop(): Promise<void>;
}

export interface StartFailure {
  /** The error when the server exits before it listens (default: its exit code and its stderr). */
  exited?: (code: number, stderr: string) => Error;
  /** The error when runServer rejects before it listens (default: its own error). */
  refused?: (error: unknown) => Error;
}

/** Serves `args` (CLI flags, no environment) with a fresh COROM_HOME; resolves once it listens. */
export async function serveInProcess(args: string[], failure: StartFailure = {}): Promise<InProcessServer> {
  const config = parseServeConfig(args, {});
  let log = '';
  const stderr = new PassThrough();
  stderr.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const shutdown = new AbortController();
  let ready!: (s: RunningServer) => void;
  const started = new Promise<RunningServer>((resolve) => (ready = resolve));
  const exited = runServer(config, { stderr, env: { COROM_HOME: mkdtempSync(join(tmpdir(), 'corom-home-')) } }, { shutdown: shutdown.signal, onReady: ready });
  const exitedEarly = (code: number) => failure.exited?.(code, log) ?? new Error(`the server exited (code ${code}) before it was ready:\n${log}`);
  const server = await Promise.race([
    started,
    exited.then(
      (code) => Promise.reject(exitedEarly(code)),
      (error: unknown) => Promise.reject(failure.refused ? failure.refused(error) : error),
    ),
  ]);
  return {
    server,
    stop: async () => {
      shutdown.abort();
      await exited;
    },
  };
}
