/** corom's one retry policy (src/retry.ts), shared by the hub client and the LangChain client. */
import { describe, expect, it } from 'vitest';
import { backoffDelay, isRetryableStatus, MAX_RETRY_AFTER_MS, parseRetryAfter, RETRYABLE_STATUSES, retryDelay } from '../src/retry.js';

describe('retryable statuses', () => {
  it('retries exactly 408, 425, 429, 500, 502, 503 and 504', () => {
    const retried = [];
    for (let status = 100; status < 600; status++) if (isRetryableStatus(status)) retried.push(status);
    expect(retried).toEqual([408, 425, 429, 500, 502, 503, 504]);
    expect([...RETRYABLE_STATUSES].sort()).toEqual(retried);
  });

  it.each([400, 401, 403, 404, 413, 422, 501, 505, 507, 520])('treats %i as final', (status) => {
    expect(isRetryableStatus(status)).toBe(false);
  });
});

describe('Retry-After', () => {
  const now = Date.parse('2026-12-02T08:00:00Z');

  it('reads delay-seconds, whole or fractional', () => {
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter(' 1.5 ', now)).toBe(1500);
    expect(parseRetryAfter('0', now)).toBe(0);
  });

  it('reads an HTTP date as the time left until it, 0 once past', () => {
    expect(parseRetryAfter('Wed, 02 Dec 2026 08:00:07 GMT', now)).toBe(7000);
    expect(parseRetryAfter('Wed, 02 Dec 2026 07:59:00 GMT', now)).toBe(0);
  });

  it('ignores an absent or unreadable header', () => {
    for (const value of [undefined, null, '', '  ', 'soon', '-1', '1e3']) expect(parseRetryAfter(value, now)).toBeUndefined();
  });

  it('is waited for exactly, up to the cap; beyond it the caller gives up', () => {
    expect(retryDelay(0, 2500)).toBe(2500);
    expect(retryDelay(5, 0)).toBe(0);
    expect(retryDelay(0, MAX_RETRY_AFTER_MS)).toBe(MAX_RETRY_AFTER_MS);
    expect(retryDelay(0, MAX_RETRY_AFTER_MS + 1)).toBeUndefined();
    expect(retryDelay(0, parseRetryAfter('120', now))).toBeUndefined();
  });
});

describe('backoff without Retry-After', () => {
  it('doubles from the base, is capped, and jitters by at most 20%', () => {
    const backoff = { baseDelayMs: 100, maxDelayMs: 1000 };
    expect([0, 1, 2, 3, 4, 5].map((n) => backoffDelay(n, backoff, () => 0.5))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(backoffDelay(0, backoff, () => 0)).toBe(80);
    expect(backoffDelay(0, backoff, () => 1)).toBe(120);
    expect(retryDelay(2, undefined, backoff, () => 0.5)).toBe(400);
  });

  it('defaults to 500 ms doubling up to 8 s', () => {
    expect([0, 1, 4, 10].map((n) => backoffDelay(n, undefined, () => 0.5))).toEqual([500, 1000, 8000, 8000]);
  });
});
