/**
 * Issue 14, item 1 over a real socket: the Node server (src/node/http-server.ts) running the app
 * answers `{"input":[[],[],... 1,390,000 times]}` (4.17 MB) with its 400 while most of the body has
 * not been sent, the client reads that 400 cleanly, and the connection (or a fresh one) serves the
 * next request. In-process app; the attack's figures are scripts/reliability/attacks.ts's.
 */
import { Agent, request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp } from '../../src/http/app.js';
import { listen, type RunningServer } from '../../src/node/http-server.js';
import { openSocket, readResponse } from '../reliability/raw-http.js';
import { fakeTokenModel } from './fake-models.js';

const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close(0)));
});

const MAX_BODY = 4 * 1024 * 1024;
const attack = Buffer.from(`{"input":[${'[],'.repeat(1_389_999)}[]]}`);

async function start(): Promise<RunningServer> {
  const server = await listen(createApp({ models: [fakeTokenModel()] }), { host: '127.0.0.1', port: 0, maxBodyBytes: MAX_BODY });
  servers.push(server);
  return server;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json: { error?: { message: string; param: string | null; code: string | null }; data?: unknown[] };
  /** Errors the request or its socket emitted, in order, and whether each came after the answer was read. */
  errors: Array<{ code: string; afterAnswer: boolean }>;
}

/** POSTs with node:http, reads the answer, then waits `settleMs` to collect any late socket error. */
function post(url: string, body: Buffer, agent: Agent | false, settleMs = 0): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const errors: Answer['errors'] = [];
    let answered = false;
    const req = request(
      new URL('/v1/embeddings', url),
      { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': body.length } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          answered = true;
          const answer = { status: res.statusCode ?? 0, headers: res.headers, json: JSON.parse(text) as Answer['json'], errors };
          setTimeout(() => resolve(answer), settleMs);
        });
      },
    );
    const onError = (error: NodeJS.ErrnoException): void => {
      errors.push({ code: error.code ?? error.message, afterAnswer: answered });
      if (!answered) reject(error);
    };
    req.on('error', onError);
    req.on('socket', (socket) => socket.on('error', onError));
    req.end(body);
  });
}

describe('an over-long list is refused while its body is still arriving', () => {
  it('the 400 comes back with most of the 4 MB unsent; the rest is discarded and the connection serves the next request', async () => {
    const server = await start();
    const socket = await openSocket(server.url);
    socket.on('error', () => {});
    const head = [`POST /v1/embeddings HTTP/1.1`, 'Host: 127.0.0.1', 'Content-Type: application/json', `Content-Length: ${attack.length}`, '', ''].join('\r\n');
    // 64 KB of the 4.17 MB: the answer must come without the rest.
    const first = readResponse(socket, 10_000);
    socket.write(Buffer.concat([Buffer.from(head, 'latin1'), attack.subarray(0, 64 * 1024)]));
    const refused = await first;
    expect(refused.closed).toBe(false);
    expect(refused.status).toBe(400);
    expect(refused.headers['content-type']).toMatch(/^application\/json/);
    const error = (JSON.parse(refused.body) as Answer['json']).error!;
    expect(error.param).toBe('input');
    expect(error.code).toBe('invalid_parameter');
    expect(error.message).toMatch(/^input has more than 2048 items; at most 2048 are allowed per request/);

    // The client sends the rest of the body it declared; the server reads it on and drops it, and
    // the same connection then carries another request.
    socket.write(attack.subarray(64 * 1024));
    const second = readResponse(socket, 10_000);
    const small = Buffer.from('{"input":"hello"}');
    socket.write(Buffer.concat([Buffer.from(head.replace(`Content-Length: ${attack.length}`, `Content-Length: ${small.length}`), 'latin1'), small]));
    const next = await second;
    expect(next.status).toBe(200);
    expect((JSON.parse(next.body) as Answer['json']).data).toHaveLength(1);
    socket.destroy();
    for (let i = 0; i < 50 && server.bufferedBodyBytes > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(server.bufferedBodyBytes).toBe(0);
  });

  it('a chunked body (no Content-Length) is refused from its first chunks too, and the connection serves the next request', async () => {
    const server = await start();
    const socket = await openSocket(server.url);
    socket.on('error', () => {});
    const chunk = (bytes: Buffer): Buffer => Buffer.concat([Buffer.from(`${bytes.length.toString(16)}\r\n`, 'latin1'), bytes, Buffer.from('\r\n', 'latin1')]);
    const head = ['POST /v1/embeddings HTTP/1.1', 'Host: 127.0.0.1', 'Content-Type: application/json', 'Transfer-Encoding: chunked', '', ''].join('\r\n');
    const first = readResponse(socket, 10_000);
    socket.write(Buffer.concat([Buffer.from(head, 'latin1'), chunk(attack.subarray(0, 64 * 1024))]));
    const refused = await first;
    expect(refused.status).toBe(400);
    expect((JSON.parse(refused.body) as Answer['json']).error).toMatchObject({ param: 'input', code: 'invalid_parameter' });

    // The rest in 1 MB chunks and the last chunk; then the same connection answers a normal request.
    for (let at = 64 * 1024; at < attack.length; at += 1 << 20) socket.write(chunk(attack.subarray(at, Math.min(at + (1 << 20), attack.length))));
    socket.write('0\r\n\r\n');
    const second = readResponse(socket, 10_000);
    socket.write(Buffer.concat([Buffer.from(head, 'latin1'), chunk(Buffer.from('{"input":"hello"}')), Buffer.from('0\r\n\r\n', 'latin1')]));
    const next = await second;
    expect(next.status).toBe(200);
    expect((JSON.parse(next.body) as Answer['json']).data).toHaveLength(1);
    socket.destroy();
  });

  it('node:http with keep-alive: the 400 with its message and param, no EPIPE or ECONNRESET even after the drain bound, the connection reused', async () => {
    const server = await start();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      // 800 ms: past @hono/node-server's 500 ms bound for discarding an unread body.
      const refused = await post(server.url, attack, agent, 800);
      expect(refused.status).toBe(400);
      expect(refused.json.error).toMatchObject({ param: 'input', code: 'invalid_parameter' });
      expect(refused.json.error!.message).toMatch(/^input has more than 2048 items; at most 2048/);
      expect(refused.errors).toEqual([]);
      let reused = false;
      const next = await new Promise<Answer>((resolve, reject) => {
        const req = request(new URL('/v1/embeddings', server.url), { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
          reused = req.reusedSocket;
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, json: JSON.parse(text) as Answer['json'], errors: [] }));
        });
        req.on('error', reject);
        req.end('{"input":"hello"}');
      });
      expect(next.status).toBe(200);
      expect(reused).toBe(true);
    } finally {
      agent.destroy();
    }
  });

  it('node:http asking Connection: close: the whole 400 is read before any error, and a fresh connection is served', async () => {
    const server = await start();
    const refused = await post(server.url, attack, false, 300);
    expect(refused.status).toBe(400);
    expect(refused.headers.connection).toBe('close');
    expect(refused.json.error).toMatchObject({ param: 'input', code: 'invalid_parameter' });
    // The server closes after answering, as the client asked; a client still writing its body may
    // see EPIPE or ECONNRESET, but only once it has the answer.
    expect(refused.errors.every((e) => e.afterAnswer)).toBe(true);
    const next = await post(server.url, Buffer.from('{"input":"hello"}'), false);
    expect(next.status).toBe(200);
    expect(next.json.data).toHaveLength(1);
    for (let i = 0; i < 50 && server.bufferedBodyBytes > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(server.bufferedBodyBytes).toBe(0);
  });
});
