/**
 * Slow clients (slowloris): headers or a body trickled byte by byte. They must not hang anyone
 * else, and the server must cut them off: headers within DEFAULT_HEADERS_TIMEOUT_MS, the whole
 * request within DEFAULT_REQUEST_TIMEOUT_MS (src/node/http-server.ts). The timeouts themselves
 * are checked in-process with short values; the real binary is checked with its defaults.
 */
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureModel, removeFixtureModel, startServeChild, type ServeChild } from '../../scripts/reliability/serve-child.js';
import type { Engine } from '../../src/engine/engine.js';
import { loadEngine } from '../../src/engine/load.js';
import { createApp } from '../../src/http/app.js';
import { servedEngine, type TokenModel } from '../../src/core/served-model.js';
import { DEFAULT_HEADERS_TIMEOUT_MS, DEFAULT_REQUEST_TIMEOUT_MS, listen, type RunningServer } from '../../src/node/http-server.js';
import { expectHandled } from './expectations.js';
import { openSocket, postBytes, readResponse } from './raw-http.js';
import { expectServes, expectUnharmed } from './service-probe.js';

afterAll(removeFixtureModel);

/** Writes `bytes` one byte every `gapMs` until done or the socket closes. */
function trickle(socket: Socket, bytes: Buffer, gapMs: number): { stop(): void } {
  let i = 0;
  const timer = setInterval(() => {
    if (i >= bytes.length || socket.destroyed) return clearInterval(timer);
    socket.write(bytes.subarray(i, ++i));
  }, gapMs);
  return { stop: () => clearInterval(timer) };
}

const HEADERS = Buffer.from(`POST /v1/embeddings HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nX-Padding: ${'p'.repeat(400)}\r\n`);

async function slowHeaders(url: string, gapMs: number): Promise<{ socket: Socket; answer: ReturnType<typeof readResponse>; stop(): void }> {
  const socket = await openSocket(url);
  socket.on('error', () => {});
  const answer = readResponse(socket, 60_000);
  return { socket, answer, ...trickle(socket, HEADERS, gapMs) };
}

async function slowBody(url: string, gapMs: number): Promise<{ socket: Socket; answer: ReturnType<typeof readResponse>; stop(): void }> {
  const body = JSON.stringify({ input: 'x'.repeat(2000) });
  const request = postBytes('/v1/embeddings', body);
  const bodyStart = request.length - Buffer.byteLength(body);
  const socket = await openSocket(url);
  socket.on('error', () => {});
  const answer = readResponse(socket, 120_000);
  socket.write(request.subarray(0, bodyStart));
  return { socket, answer, ...trickle(socket, request.subarray(bodyStart), gapMs) };
}

describe('slow clients, in-process with short timeouts', () => {
  let engine: Engine;
  let server: RunningServer;
  let slowServer: RunningServer;
  beforeAll(async () => {
    engine = await loadEngine({ model: await fixtureModel(), dtype: 'fp32', threads: 1 });
    server = await listen(createApp({ models: [servedEngine(engine)] }), { host: '127.0.0.1', port: 0, headersTimeoutMs: 300, requestTimeoutMs: 1000 });
    // Inference that takes longer than the request timeout: the timeout must not cut the answer.
    const model = servedEngine(engine);
    const slowModel: TokenModel = { ...model, embedTokens: async (s) => (await new Promise((r) => setTimeout(r, 1500)), model.embedTokens(s)) };
    slowServer = await listen(createApp({ models: [slowModel] }), { host: '127.0.0.1', port: 0, headersTimeoutMs: 300, requestTimeoutMs: 1000 });
  });
  afterAll(async () => {
    await server?.close(1000);
    await slowServer?.close(1000);
    await engine?.close();
  });

  it('the defaults are bounded (Node alone allows 60 s for headers and 300 s for a request)', () => {
    expect(DEFAULT_HEADERS_TIMEOUT_MS).toBeLessThanOrEqual(15_000);
    expect(DEFAULT_REQUEST_TIMEOUT_MS).toBeLessThanOrEqual(120_000);
  });

  it('headers trickled byte by byte: 408 and closed once headersTimeout has passed', async () => {
    const client = await slowHeaders(server.url, 50);
    const answer = await client.answer;
    client.stop();
    expect(answer.closed).toBe(true);
    if (answer.status !== undefined) expect(answer.status).toBe(408);
    expect(answer.ms).toBeGreaterThanOrEqual(250);
    expect(answer.ms).toBeLessThan(1500);
    await expectServes(server.url, 'a slow-header client');
  });

  it('a body trickled byte by byte: 408 and closed once requestTimeout has passed', async () => {
    const client = await slowBody(server.url, 20);
    const answer = await client.answer;
    client.stop();
    expect(answer.closed).toBe(true);
    if (answer.status !== undefined) expect(answer.status).toBe(408);
    expect(answer.ms).toBeGreaterThanOrEqual(900);
    expect(answer.ms).toBeLessThan(2500);
    await expectServes(server.url, 'a slow-body client');
  });

  it('a request received in time is answered even when inference outlasts requestTimeout', async () => {
    const res = await fetch(`${slowServer.url}v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ input: 'a' }) });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { data: unknown[] }).data).toHaveLength(1);
  });
});

describe('slowloris against corom serve (default timeouts)', () => {
  let server: ServeChild;
  beforeAll(async () => {
    server = await startServeChild();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('100 header tricklers and 20 body tricklers: others are still served; the header tricklers are cut off', async () => {
    const started = performance.now();
    const headerClients = await Promise.all(Array.from({ length: 100 }, () => slowHeaders(server.url, 100)));
    const bodyClients = await Promise.all(Array.from({ length: 20 }, () => slowBody(server.url, 100)));

    // Normal traffic meanwhile: every request answered (a 200 with a vector). How long they took is
    // printed below, not asserted: latency is a measurement, not a test condition.
    const latencies: number[] = [];
    while (performance.now() - started < 3000) latencies.push(await expectServes(server.url, 'slowloris'));
    expect(latencies.length).toBeGreaterThan(0);

    // Header tricklers: cut off after the 10 s headers timeout (swept every second).
    const answers = await Promise.all(headerClients.map((c) => c.answer));
    const cutAfter = performance.now() - started;
    for (const answer of answers) {
      expect(answer.closed).toBe(true);
      expectHandled(answer, 'header trickler');
      if (answer.status !== undefined) expect(answer.status).toBe(408);
    }
    process.stderr.write(`slowloris: ${latencies.length} normal requests meanwhile, max ${Math.max(...latencies).toFixed(1)} ms; header tricklers cut after ${cutAfter.toFixed(0)} ms\n`);
    expect(cutAfter).toBeGreaterThanOrEqual(DEFAULT_HEADERS_TIMEOUT_MS - 500);
    expect(cutAfter).toBeLessThan(DEFAULT_HEADERS_TIMEOUT_MS + 3000);
    headerClients.forEach((c) => c.stop());

    // Body tricklers are still within their 60 s request timeout (checked in-process above); let them go.
    for (const c of bodyClients) {
      c.stop();
      c.socket.destroy();
    }
    await Promise.allSettled(bodyClients.map((c) => c.answer));
    await expectServes(server.url, 'slowloris');
    await expectUnharmed(server);
  }, 30_000);
});
