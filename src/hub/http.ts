/**
 * Small hub requests (file listings, probes) with bounded retries. Large file bodies go through
 * ./download.ts, which resumes instead of starting over.
 */
import { HubUnreachableError } from './errors.js';
import { isRetryableStatus, parseRetryAfter } from '../retry.js';
import { describeNetworkError, retryAfterRefusal, waitBeforeRetry, type RetryPolicy } from './retry.js';

export const USER_AGENT = 'corom-edge/0.1.0 (+https://www.modelscope.cn)';

export interface HubRequestOptions {
  policy: RetryPolicy;
  /** Hub base URL, named in error messages. */
  hubUrl: string;
  headers?: Record<string, string>;
}

/**
 * GETs `url`, retrying network errors and retryable statuses (src/retry.ts) after the hub's
 * Retry-After or a backoff. Other statuses (200, 404, ...) are returned for the caller to interpret;
 * exhausting the retries (or a Retry-After too long to wait for) throws HubUnreachableError.
 */
export async function hubGet(url: string, options: HubRequestOptions): Promise<Response> {
  const { policy } = options;
  let lastReason = 'no answer';
  let retryAfterMs: number | undefined;
  for (let attempt = 0; attempt <= policy.retries; attempt++) {
    if (attempt > 0 && !(await waitBeforeRetry(policy, attempt - 1, retryAfterMs))) {
      throw new HubUnreachableError(options.hubUrl, `${lastReason}; ${retryAfterRefusal(retryAfterMs!)} (${attempt} attempt${attempt === 1 ? '' : 's'})`);
    }
    retryAfterMs = undefined;
    let response: Response;
    try {
      response = await fetch(url, {
        headers: { 'user-agent': USER_AGENT, ...options.headers },
        redirect: 'follow',
        signal: AbortSignal.timeout(policy.stallTimeoutMs),
      });
    } catch (err) {
      lastReason = describeNetworkError(err);
      continue;
    }
    if (isRetryableStatus(response.status)) {
      lastReason = `HTTP ${response.status} ${response.statusText}`.trim();
      retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
      await response.body?.cancel().catch(() => undefined);
      continue;
    }
    return response;
  }
  const attempts = policy.retries + 1;
  throw new HubUnreachableError(options.hubUrl, `${lastReason} (${attempts} attempt${attempts === 1 ? '' : 's'})`);
}

/** Reads a response body as JSON, or returns undefined when it is not JSON. */
export async function readJson(response: Response): Promise<unknown> {
  const text = await response.text();
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
