/**
 * How many times and how patiently hub requests are retried (the which-and-how-long rules are
 * corom's one retry policy, src/retry.ts), and the one-line description of a network failure
 * that a user reads when the retries run out.
 */
import { UsageError } from '../errors.js';
import { DEFAULT_BACKOFF, MAX_RETRY_AFTER_MS, retryDelay, sleep, type Backoff } from '../retry.js';

export interface RetryPolicy extends Backoff {
  /** Retries after the first attempt (so attempts = retries + 1). */
  retries: number;
  /** A request that receives no byte for this long is aborted (and retried). */
  stallTimeoutMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  retries: 4,
  ...DEFAULT_BACKOFF,
  stallTimeoutMs: 60_000,
};

function nonNegativeInt(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  if (!/^\d+$/.test(raw)) throw new UsageError(`${name} must be a whole number, got '${raw}'`);
  return Number(raw);
}

/**
 * The default policy, adjusted by COROM_HUB_RETRIES, COROM_HUB_BACKOFF_MS and COROM_HUB_TIMEOUT_MS
 * (tests use these to keep failure paths fast), then by explicit overrides.
 */
export function retryPolicyFrom(env: NodeJS.ProcessEnv, overrides?: Partial<RetryPolicy>): RetryPolicy {
  const retries = nonNegativeInt(env, 'COROM_HUB_RETRIES');
  const backoff = nonNegativeInt(env, 'COROM_HUB_BACKOFF_MS');
  const timeout = nonNegativeInt(env, 'COROM_HUB_TIMEOUT_MS');
  return {
    ...DEFAULT_RETRY_POLICY,
    ...(retries !== undefined ? { retries } : {}),
    ...(backoff !== undefined ? { baseDelayMs: backoff, maxDelayMs: Math.max(backoff, backoff * 16) } : {}),
    ...(timeout !== undefined && timeout > 0 ? { stallTimeoutMs: timeout } : {}),
    ...overrides,
  };
}

/**
 * Waits before retry number `retry` (0-based): the hub's Retry-After when it sent one, else the
 * policy's backoff. Returns false, without waiting, when the hub asked for longer than corom waits.
 */
export async function waitBeforeRetry(policy: RetryPolicy, retry: number, retryAfterMs?: number): Promise<boolean> {
  const ms = retryDelay(retry, retryAfterMs, policy);
  if (ms === undefined) return false;
  if (ms > 0) await sleep(ms);
  return true;
}

/** Why the retries stopped early: the hub's Retry-After was over MAX_RETRY_AFTER_MS. */
export function retryAfterRefusal(retryAfterMs: number): string {
  return `the hub asked to retry after ${Math.ceil(retryAfterMs / 1000)} s, longer than corom waits (${MAX_RETRY_AFTER_MS / 1000} s)`;
}

const CODE_TEXT: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'DNS lookup failed',
  ETIMEDOUT: 'timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  UND_ERR_SOCKET: 'connection closed by the server',
  UND_ERR_CONNECT_TIMEOUT: 'connect timed out',
  UND_ERR_HEADERS_TIMEOUT: 'timed out waiting for a response',
  UND_ERR_BODY_TIMEOUT: 'timed out while receiving data',
  CERT_HAS_EXPIRED: 'TLS certificate expired',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed TLS certificate',
};

/** A short reason for a fetch()/stream failure, e.g. "connection refused", from undici's error chain. */
export function describeNetworkError(err: unknown): string {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current; depth++) {
    const e = current as { code?: unknown; name?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
    if (typeof e.code === 'string' && CODE_TEXT[e.code]) return CODE_TEXT[e.code]!;
    // Happy-eyeballs connects fail with an AggregateError holding one error per address.
    if (Array.isArray(e.errors) && e.errors.length > 0) {
      current = e.errors[0];
      continue;
    }
    if (e.name === 'AbortError' || e.name === 'TimeoutError') return 'timed out';
    if (e.cause === undefined || e.cause === null) {
      if (typeof e.code === 'string') return e.code;
      return typeof e.message === 'string' && e.message ? e.message : String(current);
    }
    current = e.cause;
  }
  return 'network error';
}
