/** Starts the real service (real engine on the fixture model) on 127.0.0.1, random port. */
import type { Engine } from '../../src/engine/engine.js';
import { loadEngine } from '../../src/engine/load.js';
import { createApp } from '../../src/http/app.js';
import type { AppOptions } from '../../src/http/options.js';
import { servedEngine } from '../../src/core/served-model.js';
import { listen, type RunningServer } from '../../src/node/http-server.js';

export const FIXTURE_MODEL = 'test/fixtures/tiny-bert';

let enginePromise: Promise<Engine> | undefined;

/** One engine per test file, fp32 so vectors match the reference. */
export function fixtureEngine(): Promise<Engine> {
  enginePromise ??= loadEngine({ model: FIXTURE_MODEL, dtype: 'fp32', threads: 1 });
  return enginePromise;
}

export interface TestServer {
  url: string;
  engine: Engine;
  server: RunningServer;
  logs: string[];
  close(): Promise<void>;
}

export async function startServer(options: Omit<AppOptions, 'models'> = {}): Promise<TestServer> {
  const engine = await fixtureEngine();
  const logs: string[] = [];
  const app = createApp({ models: [servedEngine(engine)], log: (line) => logs.push(line), ...options });
  const server = await listen(app, { host: '127.0.0.1', port: 0 });
  return { url: server.url, engine, server, logs, close: async () => void (await server.close(1000)) };
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; json: any }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, headers: res.headers, json };
}

export { maxAbsDiff } from '../helpers/fixture.js';
