/**
 * When a failed remote call is tried again, and how long to wait first. Runtime-neutral (Node,
 * Workers, browsers): timers only.
 *
 * - 408, 429 and 5xx (except 501/505, which will not change) are retried, as are network errors
 *   and timeouts; every other status (400, 401, 403, 404, 413, ...) is final.
 * - A Retry-After header (delay-seconds or an HTTP date) is honoured exactly: the next attempt
 *   starts no earlier than the server asked. A server asking for more than MAX_RETRY_AFTER_MS is
 *   not waited for: the call fails at once, saying so.
 * - Without Retry-After: exponential backoff from 500 ms, doubling, capped at 8 s, with +-20% jitter.
 */

/** Longest Retry-After this client waits for; longer means "come back later", not "retry now". */
export const MAX_RETRY_AFTER_MS = 60_000;

const BASE_DELAY_MS = 500;
const MAX_DELAY_MS = 8_000;

export function isRetryableStatus(status: number): boolean {
  if (status === 408 || status === 429) return true;
  return status >= 500 && status !== 501 && status !== 505;
}

/**
 * Retry-After as milliseconds from now: delay-seconds ("3", "1.5") or an HTTP date
 * ("Wed, 21 Oct 2015 07:28:00 GMT", 0 once past). Undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** Delay before retry number `retry` (0-based) when the server gave no Retry-After. */
export function backoffDelay(retry: number, random: () => number = Math.random): number {
  const exact = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** retry);
  return Math.round(exact * (0.8 + 0.4 * random()));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
