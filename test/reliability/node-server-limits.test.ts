/**
 * What the Node server guarantees below HTTP semantics (src/node/http-server.ts), against the
 * attacks that found it lacking: half-sent bodies holding memory, `100 Continue` before the key
 * is checked, and SIGTERM dropping answers. In-process with a plain fetch handler, so the limits
 * are what is tested, not a model.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createApp } from '../../src/http/app.js';
import type { TokenModel } from '../../src/core/served-model.js';
import { listen, type RunningServer } from '../../src/node/http-server.js';
import { apiKeyVerifier } from '../../src/http/middleware/auth.js';
import { openSocket, readResponse, rawRequest } from './raw-http.js';

const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close(0)));
});

/** Echoes the body length once the whole body has arrived. */
const bodyCounter = {
  async fetch(request: Request): Promise<Response> {
    const bytes = await request.arrayBuffer();
    return Response.json({ bytes: bytes.byteLength });
  },
};

function declaredPost(length: number, extra: string[] = []): Buffer {
  return Buffer.from([`POST /v1/embeddings HTTP/1.1`, 'Host: 127.0.0.1', 'Content-Type: application/json', `Content-Length: ${length}`, ...extra, '', ''].join('\r\n'), 'latin1');
}

describe('unfinished bodies share one memory budget', () => {
  it('answers 503 + Retry-After before reading a body that would overdraw it, serves others meanwhile, and gives the budget back', async () => {
    const server = await listen(bodyCounter, { host: '127.0.0.1', port: 0, bodyBudgetBytes: 1_000_000, maxBodyBytes: 4_000_000 });
    servers.push(server);
    // Two stalled uploads of 400 kB declared each: 800 kB of the budget reserved.
    const stalled = await Promise.all(
      [0, 1].map(async () => {
        const socket = await openSocket(server.url);
        socket.on('error', () => {});
        socket.write(Buffer.concat([declaredPost(400_000), Buffer.alloc(1000, 0x20)]));
        return socket;
      }),
    );
    for (let i = 0; i < 50 && server.bufferedBodyBytes < 800_000; i++) await new Promise((r) => setTimeout(r, 20));
    expect(server.bufferedBodyBytes).toBe(800_000);

    // A third would overdraw it: refused at once, its body never read.
    const refused = await rawRequest(server.url, declaredPost(400_000), 5000);
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.headers['connection']).toBe('close');
    expect(JSON.parse(refused.body).error.code).toBe('server_busy');

    // A small body still fits, and is answered while the stalled ones wait.
    const small = await fetch(new URL('/v1/embeddings', server.url), { method: 'POST', body: '{"input":"x"}', headers: { 'content-type': 'application/json' } });
    expect(await small.json()).toEqual({ bytes: 13 });

    // The stalled clients leave: their reservations are released, and a large body fits again.
    for (const socket of stalled) socket.destroy();
    for (let i = 0; i < 50 && server.bufferedBodyBytes > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(server.bufferedBodyBytes).toBe(0);
    const body = Buffer.alloc(400_000, 0x20);
    const admitted = await rawRequest(server.url, Buffer.concat([declaredPost(body.length, ['Connection: close']), body]), 5000);
    expect(admitted.status).toBe(200);
    expect(JSON.parse(admitted.body)).toEqual({ bytes: 400_000 });
  });

  it('reserves the body limit for a chunked body, and nothing for one over the limit (the app refuses it from its header)', async () => {
    const server = await listen(bodyCounter, { host: '127.0.0.1', port: 0, bodyBudgetBytes: 1_000_000, maxBodyBytes: 600_000 });
    servers.push(server);
    const socket = await openSocket(server.url);
    socket.on('error', () => {});
    socket.write(Buffer.from('POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n', 'latin1'));
    for (let i = 0; i < 50 && server.bufferedBodyBytes === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(server.bufferedBodyBytes).toBe(600_000);
    const second = await rawRequest(server.url, Buffer.from('POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n', 'latin1'), 5000);
    expect(second.status).toBe(503);
    socket.destroy();
  });
});

function fakeModel(delayMs: number): TokenModel {
  return {
    kind: 'tokens',
    info: { id: 'fake', dimensions: 2, maxLength: 16, pooling: 'cls', dtype: 'fp32', backend: 'fake', vocabSize: 1000 },
    special: { cls: 101, sep: 102 },
    tokenize: (texts) => texts.map(() => Int32Array.from([101, 5, 102])),
    tokenStrings: (ids) => Array.from(ids, String),
    embedTokens: async (sequences) => {
      await new Promise((r) => setTimeout(r, delayMs));
      return { vectors: sequences.map(() => Float32Array.from([1, 0])), backend: 'fake' };
    },
  };
}

describe('Expect: 100-continue', () => {
  it('sends 100 Continue only to a request with a valid key; without one the 401 comes first and no body is asked for', async () => {
    const app = createApp({ models: [fakeModel(0)], apiKeys: ['secret-key'] });
    const verify = apiKeyVerifier(['secret-key']);
    const server = await listen(app, { host: '127.0.0.1', port: 0, admitContinue: (req) => verify(req.headers.authorization) });
    servers.push(server);

    const denied = await rawRequest(server.url, declaredPost(4_000_000, ['Expect: 100-continue']), 5000);
    expect(denied.status).toBe(401);

    const socket = await openSocket(server.url);
    socket.on('error', () => {});
    const body = Buffer.from('{"input":"hello"}');
    const interim = new Promise<string>((resolve) => socket.once('data', (chunk: Buffer) => resolve(chunk.toString('latin1'))));
    socket.write(declaredPost(body.length, ['Expect: 100-continue', 'Authorization: Bearer secret-key', 'Connection: close']));
    expect(await interim).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\n$/);
    const final = readResponse(socket, 5000);
    socket.write(body);
    const answer = await final;
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body).data).toHaveLength(1);
    socket.destroy();
  });
});

describe('graceful close under load', () => {
  it('answers every admitted request: finished ones with their result, the rest with 503 + Retry-After + Connection: close', async () => {
    // Batches of one request each, 400 ms per batch: 8 requests need 3.2 s, the drain allows ~1.2 s.
    const app = createApp({ models: [fakeModel(400)], batching: { enabled: false } });
    const server = await listen(app, { host: '127.0.0.1', port: 0 });
    const answers = Array.from({ length: 8 }, () =>
      rawRequest(server.url, Buffer.concat([declaredPost(17, ['Connection: close']), Buffer.from('{"input":"hello"}')]), 10_000),
    );
    for (let i = 0; i < 100 && server.inFlight < 8; i++) await new Promise((r) => setTimeout(r, 10));
    expect(server.inFlight).toBe(8);
    const outcome = await server.close(1200);
    const results = await Promise.all(answers);
    const statuses = results.map((r) => r.status);
    expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
    const cut = results.filter((r) => r.status === 503);
    expect(outcome.drained).toBe(false);
    expect(outcome.cutShort).toBe(cut.length);
    expect(cut.length).toBeGreaterThan(0);
    expect(results.filter((r) => r.status === 200).length).toBeGreaterThan(0);
    for (const r of cut) {
      expect(r.headers['retry-after']).toBe('1');
      expect(r.headers['connection']).toBe('close');
      expect(JSON.parse(r.body).error.code).toBe('shutting_down');
    }
  });
});
