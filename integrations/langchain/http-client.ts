/**
 * JSON POSTs to a corom server (or any OpenAI-compatible / Jina-Cohere-rerank-compatible one),
 * with bearer auth, a per-attempt timeout and corom's one retry policy (src/retry.ts). Runtime-neutral:
 * global fetch, or a Worker service binding passed as `fetcher`.
 */
import { CoromError } from '../../src/errors.js';
import { CoromHttpError } from './errors.js';
import { isRetryableStatus, parseRetryAfter, retryAfterTooLong, retryDelay, sleep } from '../../src/retry.js';

/** What a request needs from fetch: global fetch, or a Cloudflare service binding (`env.COROM`). */
export interface FetchLike {
  fetch(input: string, init: { method: string; headers: Record<string, string>; body: string; signal?: AbortSignal }): Promise<Response>;
}

export interface CoromHttpClientOptions {
  /** Server root, e.g. http://127.0.0.1:8080 (a trailing /v1 is accepted and dropped). */
  baseUrl: string;
  apiKey?: string;
  /** Milliseconds one attempt may take before it is abandoned (and retried). */
  timeout: number;
  /** Retries after the first attempt. */
  maxRetries: number;
  fetcher?: FetchLike;
  /** LangChain's hook: called with each failed attempt's error; throwing stops the retries. */
  onFailedAttempt?: (error: CoromHttpError) => unknown;
}

/** One attempt's failure, before it becomes the error the caller sees. */
interface Failure {
  status?: number;
  /** The server's message, or what went wrong on the way. */
  reason: string;
  type?: string | null;
  code?: string | null;
  param?: string | null;
  retryAfterMs?: number;
  retryable: boolean;
  cause?: unknown;
}

type Outcome = { ok: true; body: unknown } | { ok: false; failure: Failure };

/** "http://host:8080/v1/" -> "http://host:8080": both spellings of the server root work. */
export function serverRoot(baseUrl: string): string {
  let root = baseUrl.trim().replace(/\/+$/, '');
  if (root.endsWith('/v1')) root = root.slice(0, -3);
  return root;
}

export class CoromHttpClient {
  readonly baseUrl: string;
  private readonly options: CoromHttpClientOptions;

  constructor(options: CoromHttpClientOptions) {
    let parsed: URL;
    try {
      parsed = new URL(serverRoot(options.baseUrl));
    } catch {
      throw new CoromError(`baseUrl '${options.baseUrl}' is not a URL (expected e.g. http://127.0.0.1:8080)`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new CoromError(`baseUrl '${options.baseUrl}' must be an http:// or https:// URL`);
    }
    this.baseUrl = serverRoot(options.baseUrl);
    this.options = options;
  }

  /** POSTs `body` as JSON to `path` (e.g. "/v1/embeddings") and returns the parsed JSON answer. */
  async postJson(path: string, body: unknown): Promise<unknown> {
    const url = `${this.baseUrl}${path}`;
    const payload = JSON.stringify(body);
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.attempt(url, payload);
      if (outcome.ok) return outcome.body;
      const { failure } = outcome;
      const error = toError(`POST ${url}`, failure, attempt);
      if (!failure.retryable || attempt > this.options.maxRetries) throw error;
      const delay = retryDelay(attempt - 1, failure.retryAfterMs);
      if (delay === undefined) throw toError(`POST ${url}`, failure, attempt, `; ${retryAfterTooLong(failure.retryAfterMs!, 'this client')}`);
      await this.options.onFailedAttempt?.(error);
      await sleep(delay);
    }
  }

  private async attempt(url: string, payload: string): Promise<Outcome> {
    const headers: Record<string, string> = { 'Content-Type': 'application/json', Accept: 'application/json' };
    if (this.options.apiKey) headers.Authorization = `Bearer ${this.options.apiKey}`;
    const init = { method: 'POST', headers, body: payload, signal: AbortSignal.timeout(this.options.timeout) };
    let response: Response;
    let text: string;
    try {
      response = this.options.fetcher ? await this.options.fetcher.fetch(url, init) : await fetch(url, init);
      text = await response.text();
    } catch (err) {
      return { ok: false, failure: { reason: describeFetchFailure(err, this.options.timeout), retryable: true, cause: err } };
    }
    if (response.ok) {
      try {
        return { ok: true, body: JSON.parse(text) };
      } catch {
        return { ok: false, failure: { status: response.status, reason: `answered ${response.status} with a body that is not JSON: ${snippet(text)}`, retryable: false } };
      }
    }
    return { ok: false, failure: { status: response.status, ...serverError(text, response.statusText), retryAfterMs: parseRetryAfter(response.headers.get('retry-after')), retryable: isRetryableStatus(response.status) } };
  }
}

function toError(what: string, failure: Failure, attempts: number, suffix = ''): CoromHttpError {
  const status = failure.status !== undefined ? ` ${failure.status}` : '';
  const type = failure.type ? ` (${failure.type})` : '';
  const tries = attempts > 1 ? ` -- gave up after ${attempts} attempts` : '';
  return new CoromHttpError(`${what} failed:${status} ${failure.reason}${type}${suffix}${tries}`, {
    status: failure.status,
    type: failure.type,
    code: failure.code,
    param: failure.param,
    retryAfterMs: failure.retryAfterMs,
    attempts,
    cause: failure.cause,
  });
}

/**
 * The server's message from an error body: OpenAI `{error: {message, type, code, param}}`,
 * TEI `{error: "...", error_type}`, Cohere/Jina `{message}` or FastAPI `{detail}`; else the raw text.
 */
function serverError(text: string, statusText: string): Pick<Failure, 'reason' | 'type' | 'code' | 'param'> {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { reason: snippet(text) || statusText || 'no message' };
  }
  const record = (v: unknown): Record<string, unknown> | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);
  const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);
  const top = record(body);
  const nested = record(top?.error);
  if (nested) {
    return {
      reason: str(nested.message) ?? snippet(text),
      type: str(nested.type) ?? null,
      code: str(nested.code) ?? null,
      param: str(nested.param) ?? null,
    };
  }
  const detail = top?.detail;
  const reason = str(top?.error) ?? str(top?.message) ?? str(detail) ?? (detail !== undefined ? JSON.stringify(detail) : undefined) ?? snippet(text);
  return { reason, type: str(top?.error_type) ?? null };
}

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 300 ? `${flat.slice(0, 300)}...` : flat;
}

/** "connection refused", "no answer within 60000 ms", ... from fetch's error and its causes. */
function describeFetchFailure(err: unknown, timeout: number): string {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth++) {
    const e = current as { name?: unknown; code?: unknown; message?: unknown; cause?: unknown; errors?: unknown[] };
    if (e.name === 'TimeoutError') return `no answer within ${timeout} ms (raise the timeout option for large batches)`;
    if (e.code === 'ECONNREFUSED') return 'connection refused (is the server running at this address?)';
    if (e.code === 'ECONNRESET' || e.code === 'UND_ERR_SOCKET') return 'connection closed by the server';
    if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') return 'host not found';
    if (Array.isArray(e.errors) && e.errors.length > 0) current = e.errors[0];
    else if (e.cause !== undefined) current = e.cause;
    else return typeof e.code === 'string' ? e.code : typeof e.message === 'string' ? e.message : String(current);
  }
  return err instanceof Error ? err.message : String(err);
}
