/**
 * Refuses a JSON body holding a list of more than `maxItems` texts, objects or lists before it is
 * parsed, and before it has even arrived: JSON.parse of `{"input": [[], [], ... 1.39 million]}`
 * alone blocked the event loop for about a second and allocated ~100 MB (issue 14, item 1), and
 * reading all of its 4 MB before the scan still cost tens of ms. The body is read as a stream
 * through ../json-scan.ts's ListScanner, which sees the list's element number maxItems + 1 a few KB
 * in; the 400 goes out then, and the rest of the body is never buffered. A body that passes is
 * decoded once and left in hono's body cache, where the validator (`c.req.json()`) reads it.
 *
 * A body without a declared length (chunked) is the one case Hono's bodyLimit would buffer whole
 * before this scan: such JSON bodies skip it (`readsOwnBody`) and this middleware enforces the body
 * limit itself, counting bytes as they arrive (413 past `maxBodyBytes`), so an over-long chunked
 * list is refused a few KB in as well.
 *
 * Only Web stream APIs here: the Node server and the Worker run the same app. A refused body's
 * reader is released, not cancelled, so that the Node server can read on and discard what is left
 * after the answer (src/node/http-server.ts): the client reads its 400 and the connection stays
 * usable.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { ApiError } from '../api-error.js';
import type { AppEnv } from '../app-env.js';
import { ListScanner, type OverlongList } from '../json-scan.js';

const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json\s*(;|$)/i;

function refusal(list: OverlongList, maxItems: number): ApiError {
  if (list.path === '') return new ApiError(400, 'The request body must be a JSON object', { code: 'invalid_request_body' });
  if ('mixedAt' in list) {
    const at = `${list.path}[${list.mixedAt}]`;
    return new ApiError(400, `${at} is a ${list.kind} but ${list.path}[0] is a number; one list must not mix token ids with anything else`, {
      param: at,
      code: 'invalid_parameter',
    });
  }
  const size = 'items' in list ? `${list.items}` : `more than ${list.moreThan}`;
  return new ApiError(400, `${list.path} has ${size} items; at most ${maxItems} are allowed per request, split it into several requests`, {
    param: list.path,
    code: 'invalid_parameter',
  });
}

/** The 413 of a body over the limit, declared or counted while it arrives. */
export function bodyTooLarge(maxBodyBytes: number): ApiError {
  return new ApiError(413, `The request body exceeds ${maxBodyBytes} bytes; send fewer or shorter inputs per request`, { code: 'request_too_large' });
}

/** Whether boundedLists reads this request's body as it arrives (a JSON POST). */
function scansBody(c: Context<AppEnv>): boolean {
  return c.req.method === 'POST' && JSON_MEDIA_TYPE.test(c.req.header('content-type') ?? '');
}

/**
 * A JSON POST with no declared length: boundedLists counts its bytes against the body limit as
 * it reads, so the app's bodyLimit (which would buffer it whole first) leaves it alone.
 */
export function readsOwnBody(c: Context<AppEnv>): boolean {
  const declared = c.req.header('content-length') !== undefined && c.req.header('transfer-encoding') === undefined;
  return !declared && scansBody(c);
}

/** Hono keeps a body read once as a promise per kind (typed as the value); `text` serves json() too. */
function cacheText(c: Context<AppEnv>, text: Promise<string>): void {
  (c.req.bodyCache as { text?: Promise<string> }).text = text;
}

/** Reads and drops what is left of a body, up to `maxBodyBytes` in all; past that, cancels it. */
async function dropRest(reader: ReadableStreamDefaultReader<Uint8Array>, size: number, maxBodyBytes: number): Promise<void> {
  for (let read = size; ; ) {
    const { done, value } = await reader.read();
    if (done) return;
    read += value.length;
    if (read > maxBodyBytes) {
      await reader.cancel().catch(() => {});
      return;
    }
  }
}

export function boundedLists(maxItems: number, maxBodyBytes: number, options: { drainRefused?: boolean } = {}): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (!scansBody(c)) return next();
    const body = c.req.raw.body;
    // Already read (by the body limit, when it had to count a chunked body) or none: the cache or
    // the validator has it.
    if (body === null || c.req.raw.bodyUsed || Object.keys(c.req.bodyCache).length > 0) return next();
    const scanner = new ListScanner(maxItems);
    const chunks: Uint8Array[] = [];
    let size = 0;
    const reader = body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(value);
        size += value.length;
        // Declared lengths were checked from the header; a chunked body is counted here.
        if (size > maxBodyBytes) throw bodyTooLarge(maxBodyBytes);
        const list = scanner.push(value);
        // The rest of the body is left unread (the Node server discards it after the answer), or
        // read and dropped here first where the host asks (Limits.drainRefusedBodies: the Worker).
        if (list !== undefined) {
          if (options.drainRefused) await dropRest(reader, size, maxBodyBytes).catch(() => {});
          throw refusal(list, maxItems);
        }
      }
    } catch (error) {
      if (error instanceof ApiError) throw error;
      // The client went away mid-body: the validator reads the same failure and answers it as
      // it always has (a route that never reads the body must not see an unhandled rejection).
      const failed = Promise.reject(error instanceof Error ? error : new Error(String(error)));
      failed.catch(() => {});
      cacheText(c, failed);
      return next();
    } finally {
      reader.releaseLock();
    }
    const bytes = new Uint8Array(size);
    let offset = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, offset);
      offset += chunk.length;
    }
    // As Request.text() decodes: UTF-8, a leading byte-order mark dropped, bad bytes as U+FFFD.
    cacheText(c, Promise.resolve(new TextDecoder().decode(bytes)));
    return next();
  };
}
