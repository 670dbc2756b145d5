/**
 * Serves a fetch handler (the Hono app) on Node via @hono/node-server, with a graceful close:
 * stop accepting, let in-flight requests finish (bounded by a drain timeout), then drop the
 * remaining idle keep-alive sockets.
 *
 * Slow clients are bounded: headers must arrive within `headersTimeoutMs` and the whole request
 * within `requestTimeoutMs` (Node answers 408 and closes the socket). Node's own defaults (60 s and
 * 300 s, checked only every 30 s) let a slowloris client hold a socket for up to 5.5 minutes.
 */
import { createAdaptorServer } from '@hono/node-server';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CoromError } from '../errors.js';

export interface FetchHandler {
  fetch(request: Request): Response | Promise<Response>;
}

export interface RunningServer {
  /** http://host:port/ as clients reach it. */
  readonly url: string;
  readonly port: number;
  /** Requests whose response has not finished yet. */
  readonly inFlight: number;
  /**
   * Stops accepting connections and waits up to `drainTimeoutMs` for in-flight requests.
   * Resolves with whether every request finished in time.
   */
  close(drainTimeoutMs: number): Promise<{ drained: boolean }>;
}

function hostForUrl(host: string): string {
  if (host === '0.0.0.0' || host === '::') return host === '::' ? '[::1]' : '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

/** Headers arrive in one packet from any real client; 10 s is generous. */
export const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;
/** The whole request, body included: the default 4 MiB body limit at ~1 Mbit/s takes ~35 s. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;

export interface ListenOptions {
  host: string;
  port: number;
  /** Time to receive the request headers (default DEFAULT_HEADERS_TIMEOUT_MS). */
  headersTimeoutMs?: number;
  /** Time to receive the whole request (default DEFAULT_REQUEST_TIMEOUT_MS); not the time to answer it. */
  requestTimeoutMs?: number;
}

export async function listen(handler: FetchHandler, options: ListenOptions): Promise<RunningServer> {
  const requestTimeout = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  // Node refuses headersTimeout > requestTimeout.
  const headersTimeout = Math.min(options.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS, requestTimeout);
  const server = createAdaptorServer({
    fetch: (request: Request) => handler.fetch(request),
    serverOptions: {
      headersTimeout,
      requestTimeout,
      // Both timeouts are enforced by a sweep at this interval (Node's default: every 30 s).
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(headersTimeout / 4))),
    },
  }) as Server;
  let inFlight = 0;
  let draining = false;
  let onIdle: (() => void) | undefined;

  server.on('request', (_req: IncomingMessage, res: ServerResponse) => {
    inFlight++;
    // While draining, answers close their connection instead of keeping it alive for more.
    if (draining) res.setHeader('Connection', 'close');
    res.once('close', () => {
      inFlight--;
      if (inFlight === 0) onIdle?.();
    });
  });

  await new Promise<void>((resolve, reject) => {
    const fail = (err: NodeJS.ErrnoException): void => {
      const reason = err.code === 'EADDRINUSE' ? 'the address is already in use' : err.code === 'EACCES' ? 'permission denied' : err.message;
      reject(new CoromError(`cannot listen on ${options.host}:${options.port}: ${reason}`));
    };
    server.once('error', fail);
    server.listen(options.port, options.host, () => {
      server.off('error', fail);
      resolve();
    });
  });

  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${hostForUrl(options.host)}:${port}/`,
    port,
    get inFlight() {
      return inFlight;
    },
    async close(drainTimeoutMs) {
      draining = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const drained = await new Promise<boolean>((resolve) => {
        if (inFlight === 0) return resolve(true);
        const timer = setTimeout(() => resolve(false), drainTimeoutMs);
        onIdle = () => {
          clearTimeout(timer);
          resolve(true);
        };
      });
      server.closeAllConnections();
      await closed;
      return { drained };
    },
  };
}
