/**
 * A loopback HTTP peer for retry tests: answers the first requests from a script (429 with
 * Retry-After, 5xx, 401 ...), then hands every further request to a real fetch handler (the
 * corom Hono app over the fixture engine). It records each request's arrival time.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ScriptedAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** Do not answer at all (the client's timeout fires). */
  hang?: boolean;
}

export interface TestPeer {
  url: string;
  /** Arrival time (performance.now()) and path of every request so far. */
  readonly requests: Array<{ at: number; path: string; authorization: string | undefined; body: unknown }>;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startTestPeer(script: ScriptedAnswer[], handler?: { fetch(request: Request): Response | Promise<Response> }): Promise<TestPeer> {
  const queue = [...script];
  const requests: TestPeer['requests'] = [];
  const server: Server = createServer((req, res) => {
    void (async () => {
      const text = await readBody(req);
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        /* recorded as text */
      }
      requests.push({ at: performance.now(), path: req.url ?? '', authorization: req.headers.authorization, body });
      const scripted = queue.shift();
      if (scripted?.hang) return;
      if (scripted) {
        res.writeHead(scripted.status, { 'Content-Type': 'application/json', ...scripted.headers });
        res.end(typeof scripted.body === 'string' ? scripted.body : JSON.stringify(scripted.body ?? {}));
        return;
      }
      if (!handler) {
        res.writeHead(500, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'test peer: script exhausted', type: 'server_error' } }));
        return;
      }
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
      const response = await handler.fetch(new Request(`http://127.0.0.1${req.url}`, { method: req.method, headers, body: text || undefined }));
      res.writeHead(response.status, Object.fromEntries(response.headers));
      res.end(Buffer.from(await response.arrayBuffer()));
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
