/**
 * Bounded retries with exponential backoff for hub requests, and the one-line description of a
 * network failure that a user reads when the retries run out.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { UsageError } from '../errors.js';

export interface RetryPolicy {
  /** Retries after the first attempt (so attempts = retries + 1). */
  retries: number;
  /** Delay before the first retry; doubles on each further retry. */
  baseDelayMs: number;
  /** Upper bound of one delay. */
  maxDelayMs: number;
  /** A request that receives no byte for this long is aborted (and retried). */
  stallTimeoutMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  retries: 4,
  baseDelayMs: 500,
  maxDelayMs: 8000,
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

/** Delay before retry number `retry` (0-based): base * 2^retry, capped, with +-20% jitter. */
export function backoffDelay(policy: RetryPolicy, retry: number): number {
  const exact = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry);
  return Math.round(exact * (0.8 + 0.4 * Math.random()));
}

export async function waitBeforeRetry(policy: RetryPolicy, retry: number): Promise<void> {
  const ms = backoffDelay(policy, retry);
  if (ms > 0) await sleep(ms);
}

/** HTTP statuses worth retrying: server trouble and rate limiting, not client errors. */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 429 || status === 408;
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
