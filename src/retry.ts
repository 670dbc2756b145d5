/**
 * The one retry policy for every remote call corom makes (hub downloads, the LangChain client):
 * which answers are worth another attempt, and how long to wait before it. Runtime-neutral (Node,
 * Workers, browsers): timers only. Attempt counts and per-attempt timeouts stay with each caller.
 *
 * - Retried: network errors and timeouts, and the statuses in RETRYABLE_STATUSES (request timeout,
 *   too early, rate limited, and the 5xx that mean "busy or briefly broken"). Every other status is
 *   final: 4xx are the request's fault, and 501/505 or an unknown 5xx will not change on a retry.
 * - A Retry-After header (delay-seconds or an HTTP date) is honoured exactly: the next attempt
 *   starts no earlier than the server asked. A server asking for more than MAX_RETRY_AFTER_MS is
 *   not waited for: the call fails at once, saying so.
 * - Without Retry-After: exponential backoff (default from 500 ms, doubling, capped at 8 s), +-20% jitter.
 */

export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([408, 425, 429, 500, 502, 503, 504]);

export function isRetryableStatus(status: number): boolean {
  return RETRYABLE_STATUSES.has(status);
}

/** Longest Retry-After waited for; longer means "come back later", not "retry now". */
export const MAX_RETRY_AFTER_MS = 60_000;

export interface Backoff {
  /** Delay before the first retry; doubles on each further retry. */
  baseDelayMs: number;
  /** Upper bound of one delay. */
  maxDelayMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { baseDelayMs: 500, maxDelayMs: 8_000 };

/**
 * Retry-After as milliseconds from now: delay-seconds ("3", "1.5") or an HTTP date
 * ("Wed, 21 Oct 2015 07:28:00 GMT", 0 once past). Undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  // All three HTTP-date forms start with a day name; without this check V8's lenient Date.parse
  // would read "-1" as the year 2001, i.e. "retry at once".
  if (!/^[A-Za-z]{3}/.test(text)) return undefined;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** Delay before retry number `retry` (0-based) when the server gave no Retry-After: base * 2^retry, capped, +-20%. */
export function backoffDelay(retry: number, backoff: Backoff = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const exact = Math.min(backoff.maxDelayMs, backoff.baseDelayMs * 2 ** retry);
  return Math.round(exact * (0.8 + 0.4 * random()));
}

/**
 * The wait before retry number `retry` (0-based): the server's Retry-After when it sent one,
 * else the backoff. Undefined when the server asked for longer than MAX_RETRY_AFTER_MS: give up.
 */
export function retryDelay(retry: number, retryAfterMs: number | undefined, backoff: Backoff = DEFAULT_BACKOFF, random: () => number = Math.random): number | undefined {
  if (retryAfterMs === undefined) return backoffDelay(retry, backoff, random);
  return retryAfterMs > MAX_RETRY_AFTER_MS ? undefined : retryAfterMs;
}

/** The sentence a caller appends when it gives up because of a long Retry-After. */
export function retryAfterTooLong(retryAfterMs: number, who: string): string {
  return `the server asked to retry after ${Math.ceil(retryAfterMs / 1000)} s, longer than ${who} waits (${MAX_RETRY_AFTER_MS / 1000} s)`;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
