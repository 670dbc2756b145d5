/**
 * Serves a fetch handler (the Hono app) on Node via @hono/node-server, with what a public server
 * needs below HTTP semantics:
 *
 * - Slow clients are bounded: headers must arrive within `headersTimeoutMs` and the whole request
 *   within `requestTimeoutMs` (Node answers 408 and closes the socket). Node's own defaults (60 s
 *   and 300 s, checked only every 30 s) let a slowloris client hold a socket for up to 5.5 minutes.
 * - Unfinished bodies share one memory budget (`bodyBudgetBytes`): a request reserves its declared
 *   Content-Length (or the body limit when chunked) until its body has arrived; one that would
 *   overdraw the budget is answered 503 + Retry-After + Connection: close before a byte of its body
 *   is read. Without it, 400 connections that each declare 4 MB, send most of it and stall held
 *   1.8 GB until the request timeout.
 * - `Expect: 100-continue` is answered only after `admitContinue` (the API key, the declared size)
 *   says yes, so a client without a valid key learns it is 401 before uploading its body.
 * - A body the app stopped reading because it had its answer already (an over-long list refused a
 *   few KB into a 4 MB body) is read on and discarded after that answer, so the client can finish
 *   sending and read its 400 on a connection that stays usable. Left alone, the web stream the app
 *   read it through stops pulling, the upload stalls, and @hono/node-server closes the socket
 *   after 500 ms under a client still writing (EPIPE).
 * - A graceful close answers every admitted request: stop accepting, let in-flight requests finish
 *   within the drain bound, and answer those that cannot with 503 + Retry-After + Connection: close
 *   (their work is abandoned) before the sockets are closed. Nobody is left without a response.
 */
import { createAdaptorServer } from '@hono/node-server';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CoromError } from '../errors.js';
import { ApiError } from '../http/api-error.js';

export interface FetchHandler {
  fetch(request: Request): Response | Promise<Response>;
}

export interface CloseOutcome {
  /** Every request finished on its own within the drain bound. */
  drained: boolean;
  /** Requests answered 503 because they would not finish within the drain bound. */
  cutShort: number;
}

export interface RunningServer {
  /** http://host:port/ as clients reach it. */
  readonly url: string;
  readonly port: number;
  /** Requests whose response has not finished yet. */
  readonly inFlight: number;
  /** Bytes reserved by request bodies that have not fully arrived. */
  readonly bufferedBodyBytes: number;
  /**
   * Stops accepting connections and waits up to `drainTimeoutMs` for in-flight requests; those
   * still running near the bound are answered 503 (see CloseOutcome).
   */
  close(drainTimeoutMs: number): Promise<CloseOutcome>;
}

function hostForUrl(host: string): string {
  if (host === '0.0.0.0' || host === '::') return host === '::' ? '[::1]' : '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

/** Headers arrive in one packet from any real client; 10 s is generous. */
export const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;
/** The whole request, body included: the default 4 MiB body limit at ~1 Mbit/s takes ~35 s. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;
/**
 * Bytes all unfinished request bodies may reserve at once: 32 maximal (4 MiB) bodies in flight,
 * far more than 2 cores can compute at once, and a bound that keeps the process well under 1 GB
 * whatever slow or stalled clients do.
 */
export const DEFAULT_BODY_BUDGET_BYTES = 128 * 1024 * 1024;
/** Share of the drain bound kept back to write the 503s of requests that will not finish. */
const CUT_SHORT_GRACE_MS = 1000;

export interface ListenOptions {
  host: string;
  port: number;
  /** Time to receive the request headers (default DEFAULT_HEADERS_TIMEOUT_MS). */
  headersTimeoutMs?: number;
  /** Time to receive the whole request (default DEFAULT_REQUEST_TIMEOUT_MS); not the time to answer it. */
  requestTimeoutMs?: number;
  /** The app's body limit: what a chunked body (no Content-Length) reserves of the budget. */
  maxBodyBytes?: number;
  /** Budget of bytes reserved by unfinished bodies (default DEFAULT_BODY_BUDGET_BYTES). */
  bodyBudgetBytes?: number;
  /** Whether to send `100 Continue` to a request that expects it; false lets the app answer (401, 413) first. */
  admitContinue?: (request: IncomingMessage) => boolean | Promise<boolean>;
}

type NodeListener = (req: IncomingMessage, res: ServerResponse) => void;

function plainError(res: ServerResponse, error: ApiError): void {
  if (res.headersSent) return void res.destroy();
  const body = JSON.stringify(error.toJSON());
  res.writeHead(error.status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), Connection: 'close', ...error.headers });
  res.end(body);
}

/**
 * Reads what is left of a request body the app stopped reading, and drops it. Bounded: the
 * declared length is at most the body limit (checked from the header before the app reads), and
 * @hono/node-server still closes the connection if the rest has not arrived 500 ms after the
 * answer was sent.
 */
function discardRest(request: Request, incoming: { complete: boolean; readableFlowing: boolean | null }): void {
  // A body nobody started reading (a 401, 413 or 429 answered from the headers) is Node's to
  // discard, as it always was. Only touch `request.body` when the app did start reading it:
  // @hono/node-server's Request builds its web stream over the socket's IncomingMessage on first
  // access, and building one here, after the answer, for a body nobody reads left keep-alive
  // connections answering the wrong requests under load (test/reliability/load.test.ts).
  if (incoming.complete || incoming.readableFlowing === null) return;
  if (!request.bodyUsed || request.body === null || request.body.locked) return;
  const reader = request.body.getReader();
  void (async () => {
    try {
      for (;;) if ((await reader.read()).done) return;
    } catch {
      // The connection ended first: nothing left to discard.
    }
  })();
}

function overBudget(): ApiError {
  return new ApiError(503, 'The server is receiving too many request bodies at once; retry shortly', {
    code: 'server_busy',
    headers: { 'Retry-After': '1' },
  });
}

function shuttingDown(): ApiError {
  return new ApiError(503, 'The server is shutting down and could not finish this request in time; retry (another instance may answer)', {
    code: 'shutting_down',
    headers: { 'Retry-After': '1', Connection: 'close' },
  });
}

export async function listen(handler: FetchHandler, options: ListenOptions): Promise<RunningServer> {
  const requestTimeout = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  // Node refuses headersTimeout > requestTimeout.
  const headersTimeout = Math.min(options.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS, requestTimeout);
  const maxBodyBytes = options.maxBodyBytes ?? Number.POSITIVE_INFINITY;
  const budget = options.bodyBudgetBytes ?? DEFAULT_BODY_BUDGET_BYTES;

  // Requests the handler has not answered yet; each entry answers its request with a Response.
  const unanswered = new Set<(response: Response) => void>();
  let cutting = false;
  const server = createAdaptorServer({
    fetch: (request: Request, env: { incoming: { complete: boolean; readableFlowing: boolean | null } }) => {
      if (cutting) return new Response(JSON.stringify(shuttingDown().toJSON()), { status: 503, headers: { 'Content-Type': 'application/json', ...shuttingDown().headers } });
      return new Promise<Response>((resolve, reject) => {
        const answer = (response: Response): void => {
          unanswered.delete(answer);
          resolve(response);
          discardRest(request, env.incoming);
        };
        unanswered.add(answer);
        Promise.resolve()
          .then(() => handler.fetch(request))
          .then(answer, (error: unknown) => {
            unanswered.delete(answer);
            reject(error);
          });
      });
    },
    serverOptions: {
      headersTimeout,
      requestTimeout,
      // Both timeouts are enforced by a sweep at this interval (Node's default: every 30 s).
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(headersTimeout / 4))),
    },
  }) as Server;

  // The adaptor's listener runs the app; ours decides first whether the request gets that far.
  const appListener = server.listeners('request')[0] as NodeListener;
  server.removeAllListeners('request');

  let inFlight = 0;
  let bufferedBodyBytes = 0;
  let draining = false;
  let onIdle: (() => void) | undefined;

  /** The bytes this request's body will hold until it has arrived; 0 when none is coming. */
  const reservation = (req: IncomingMessage): number => {
    if (req.complete) return 0;
    const declared = req.headers['content-length'];
    if (declared !== undefined) {
      const bytes = Number(declared);
      // Over the body limit the app refuses from the header alone and reads nothing.
      return Number.isFinite(bytes) && bytes <= maxBodyBytes ? bytes : 0;
    }
    return req.headers['transfer-encoding'] ? Math.min(maxBodyBytes, budget) : 0;
  };

  const dispatch = (req: IncomingMessage, res: ServerResponse, expectsContinue: boolean): void => {
    inFlight++;
    res.once('close', () => {
      inFlight--;
      if (inFlight === 0) onIdle?.();
    });
    // While draining, answers close their connection instead of keeping it alive for more.
    if (draining) res.setHeader('Connection', 'close');
    const reserved = reservation(req);
    if (reserved > 0) {
      if (bufferedBodyBytes + reserved > budget) return plainError(res, overBudget());
      bufferedBodyBytes += reserved;
      let released = false;
      const release = (): void => {
        if (released) return;
        released = true;
        bufferedBodyBytes -= reserved;
      };
      req.once('end', release);
      req.once('close', release);
      res.once('close', release);
    }
    if (!expectsContinue) return appListener(req, res);
    void Promise.resolve(options.admitContinue ? options.admitContinue(req) : true).then(
      (admit) => {
        if (admit) res.writeContinue();
        // Not admitted: the app answers from the headers (401, 413) and the body is never sent.
        else res.setHeader('Connection', 'close');
        appListener(req, res);
      },
      () => {
        res.setHeader('Connection', 'close');
        appListener(req, res);
      },
    );
  };
  server.on('request', (req: IncomingMessage, res: ServerResponse) => dispatch(req, res, false));
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => dispatch(req, res, true));

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

  const waitIdle = (ms: number): Promise<boolean> =>
    new Promise<boolean>((resolve) => {
      if (inFlight === 0) return resolve(true);
      const timer = setTimeout(() => {
        onIdle = undefined;
        resolve(false);
      }, Math.max(0, ms));
      onIdle = () => {
        clearTimeout(timer);
        onIdle = undefined;
        resolve(true);
      };
    });

  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${hostForUrl(options.host)}:${port}/`,
    port,
    get inFlight() {
      return inFlight;
    },
    get bufferedBodyBytes() {
      return bufferedBodyBytes;
    },
    async close(drainTimeoutMs) {
      draining = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const grace = Math.min(CUT_SHORT_GRACE_MS, Math.floor(drainTimeoutMs / 4));
      const drained = await waitIdle(drainTimeoutMs - grace);
      let cutShort = 0;
      if (!drained) {
        // Everything still unanswered gets its 503 now; the grace is for writing them out.
        cutting = true;
        for (const answer of [...unanswered]) {
          const error = shuttingDown();
          answer(new Response(JSON.stringify(error.toJSON()), { status: 503, headers: { 'Content-Type': 'application/json', ...error.headers } }));
          cutShort++;
        }
        await waitIdle(grace);
      }
      server.closeAllConnections();
      await closed;
      return { drained, cutShort };
    },
  };
}
