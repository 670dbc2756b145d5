/**
 * HTTP/1.1 at the byte level, for requests fetch() will not send: malformed or invalid UTF-8
 * bodies, trickled bytes, half-sent bodies, header floods. Reads one response (or the close).
 */
import { connect, type Socket } from 'node:net';

export interface RawResponse {
  /** undefined when the server closed the connection without answering. */
  status?: number;
  headers: Record<string, string>;
  body: string;
  /** The server closed the connection (after or instead of an answer). */
  closed: boolean;
  /** ms from connect to the answer or the close. */
  ms: number;
}

export function openSocket(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Reads one response from `socket`: headers, then Content-Length bytes or until the close. */
export function readResponse(socket: Socket, timeoutMs = 15_000): Promise<RawResponse> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    let buffer = Buffer.alloc(0);
    let done = false;
    const finish = (closed: boolean): void => {
      if (done) return;
      const text = buffer.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0 && !closed) return;
      const head = end < 0 ? text : text.slice(0, end);
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1];
      const headers: Record<string, string> = {};
      for (const line of head.split('\r\n').slice(1)) {
        const colon = line.indexOf(':');
        if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const bodyBytes = end < 0 ? Buffer.alloc(0) : buffer.subarray(end + 4);
      const length = headers['content-length'] === undefined ? undefined : Number(headers['content-length']);
      if (!closed && (length === undefined || bodyBytes.length < length)) return;
      done = true;
      clearTimeout(timer);
      socket.off('data', onData);
      resolve({
        ...(status ? { status: Number(status) } : {}),
        headers,
        body: bodyBytes.subarray(0, length ?? bodyBytes.length).toString('utf8'),
        closed,
        ms: performance.now() - started,
      });
    };
    const onData = (chunk: Buffer): void => {
      buffer = Buffer.concat([buffer, chunk]);
      finish(false);
    };
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      socket.destroy();
      reject(new Error(`no answer and no close within ${timeoutMs} ms (got ${buffer.length} bytes)`));
    }, timeoutMs);
    socket.on('data', onData);
    socket.once('close', () => finish(true));
    socket.once('error', () => finish(true));
  });
}

/** Sends `head` + `body` on a fresh connection and reads the answer. EPIPE/ECONNRESET while writing count as a close. */
export async function rawRequest(url: string, bytes: Buffer | string, timeoutMs?: number): Promise<RawResponse> {
  const socket = await openSocket(url);
  socket.on('error', () => {});
  const response = readResponse(socket, timeoutMs);
  socket.write(bytes);
  const result = await response;
  socket.destroy();
  return result;
}

/** A POST with a JSON content type and the given raw body bytes. */
export function postBytes(path: string, body: Buffer | string, extraHeaders: string[] = []): Buffer {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const head = [`POST ${path} HTTP/1.1`, 'Host: 127.0.0.1', 'Content-Type: application/json', `Content-Length: ${bytes.length}`, 'Connection: close', ...extraHeaders, '', ''].join('\r\n');
  return Buffer.concat([Buffer.from(head, 'latin1'), bytes]);
}
