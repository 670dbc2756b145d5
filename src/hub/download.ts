/**
 * Downloads one hub file into place, safely:
 * - bytes go to `<dest>.part`; a dropped connection resumes from its length with an HTTP Range
 *   request, and a server that ignores Range (200 instead of 206) restarts the file from zero;
 * - network errors and retryable statuses are retried (src/retry.ts: Retry-After, else bounded
 *   exponential backoff);
 * - size and sha256 are checked when the hub gives them; a mismatch deletes the data and is an
 *   error naming the file;
 * - only a verified file is renamed to `<dest>`, so a broken download never looks complete.
 */
import { mkdir, open, rename, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { CoromError, ModelFileError } from '../errors.js';
import { sha256File } from '../store/stamp.js';
import { HubNotFoundError, HubUnreachableError } from './errors.js';
import { USER_AGENT } from './http.js';
import type { TransferProgress } from './progress.js';
import { isRetryableStatus, MAX_RETRY_AFTER_MS, parseRetryAfter } from '../retry.js';
import { describeNetworkError, retryAfterRefusal, waitBeforeRetry, type RetryPolicy } from './retry.js';

export interface DownloadTarget {
  url: string;
  /** Final path; the partial data lives at `${dest}.part`. */
  dest: string;
  /** Name used in messages (the file's path in the repository). */
  name: string;
  /** Expected size in bytes, when the hub lists it. */
  size?: number;
  /** Expected lowercase hex sha256, when the hub lists it. */
  sha256?: string;
}

export interface DownloadOptions {
  policy: RetryPolicy;
  hubUrl: string;
  progress: TransferProgress;
}

export interface DownloadResult {
  bytes: number;
  sha256: string;
  /** Attempts that failed and were retried. */
  retries: number;
  /** True when some bytes came from an earlier, interrupted attempt (Range resume). */
  resumed: boolean;
}

/** The hub has no such file (HTTP 404); optional files are skipped on this error. */
export class FileNotOnHubError extends HubNotFoundError {
  constructor(
    readonly file: string,
    status: number,
  ) {
    super(`${file}: not found on the hub (HTTP ${status})`);
    this.name = 'FileNotOnHubError';
  }
}

/** A failed attempt that may be retried (network trouble, 5xx, a lying Content-Range). */
class RetryableFailure extends Error {
  constructor(
    message: string,
    /** The server's Retry-After, when it sent one. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** At most this many attempts in all, even when each failed attempt made some progress. */
const MAX_TOTAL_ATTEMPTS = 64;

async function sizeOf(file: string): Promise<number | undefined> {
  try {
    return (await stat(file)).size;
  } catch {
    return undefined;
  }
}

/** Parses `Content-Range: bytes START-END/TOTAL` (TOTAL may be `*`). */
function parseContentRange(value: string | null): { start: number; total: number | undefined } | undefined {
  const match = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(value?.trim() ?? '');
  if (!match) return undefined;
  return { start: Number(match[1]), total: match[3] === '*' ? undefined : Number(match[3]) };
}

function shortHash(hex: string): string {
  return hex.length > 16 ? `${hex.slice(0, 12)}…` : hex;
}

export async function downloadFile(target: DownloadTarget, options: DownloadOptions): Promise<DownloadResult> {
  const { policy, progress } = options;
  const part = `${target.dest}.part`;
  await mkdir(path.dirname(target.dest), { recursive: true });

  let expectedTotal = target.size;
  let partSize = (await sizeOf(part)) ?? 0;
  if (expectedTotal !== undefined && partSize > expectedTotal) {
    await rm(part, { force: true }); // longer than the file can be: not ours to trust
    partSize = 0;
  }
  const state = { resumed: false };

  let failuresWithoutProgress = 0;
  let retries = 0;
  let lastReason = '';
  let retryAfterMs: number | undefined;
  for (let attempt = 0; ; attempt++) {
    partSize = (await sizeOf(part)) ?? 0;
    if (expectedTotal !== undefined && partSize === expectedTotal) break;
    if (attempt > 0) {
      retries++;
      if (failuresWithoutProgress > policy.retries || attempt >= MAX_TOTAL_ATTEMPTS) {
        throw new HubUnreachableError(
          options.hubUrl,
          `downloading ${target.name} failed: ${lastReason} (${attempt} attempts)`,
        );
      }
      if (retryAfterMs !== undefined && retryAfterMs > MAX_RETRY_AFTER_MS) {
        throw new HubUnreachableError(options.hubUrl, `downloading ${target.name} failed: ${lastReason}; ${retryAfterRefusal(retryAfterMs)}`);
      }
      progress.note(`${target.name}: ${lastReason}; retrying${partSize > 0 ? ` from ${partSize} bytes` : ''}`);
      await waitBeforeRetry(policy, Math.max(0, failuresWithoutProgress - 1), retryAfterMs);
    }
    const before = partSize;
    try {
      const outcome = await attemptDownload(target, part, partSize, expectedTotal, options, state);
      expectedTotal = outcome.total ?? expectedTotal;
      if (outcome.complete) break;
    } catch (err) {
      progress.abort();
      if (err instanceof ModelFileError) await rm(part, { force: true });
      if (!(err instanceof RetryableFailure)) throw err;
      lastReason = err.message;
      retryAfterMs = err.retryAfterMs;
      const after = (await sizeOf(part)) ?? 0;
      // A failure after some progress (a dropped connection mid-file) resumes without using up a
      // retry; MAX_TOTAL_ATTEMPTS still bounds the loop.
      failuresWithoutProgress = after > before ? 0 : failuresWithoutProgress + 1;
    }
  }

  // An empty file listed with size 0 needs no request at all.
  if ((await sizeOf(part)) === undefined) await writeFile(part, new Uint8Array());
  const bytes = (await sizeOf(part)) ?? 0;
  if (expectedTotal !== undefined && bytes !== expectedTotal) {
    await rm(part, { force: true });
    throw new ModelFileError(
      target.name,
      `size mismatch: expected ${expectedTotal} bytes, received ${bytes}; the download was deleted, run the command again`,
    );
  }
  const sha256 = await sha256File(part);
  if (target.sha256 !== undefined && sha256 !== target.sha256.toLowerCase()) {
    await rm(part, { force: true });
    throw new ModelFileError(
      target.name,
      `sha256 mismatch (hub lists ${shortHash(target.sha256)}, received ${shortHash(sha256)}); ` +
        'the corrupt download was deleted, run the command again',
    );
  }
  await rename(part, target.dest);
  return { bytes, sha256, retries, resumed: state.resumed };
}

interface AttemptOutcome {
  /** True when the body ended normally and the file should be complete. */
  complete: boolean;
  total: number | undefined;
}

async function attemptDownload(
  target: DownloadTarget,
  part: string,
  offset: number,
  expectedTotal: number | undefined,
  options: DownloadOptions,
  state: { resumed: boolean },
): Promise<AttemptOutcome> {
  const { policy, progress } = options;
  const controller = new AbortController();
  let stallTimer: NodeJS.Timeout | undefined;
  const armStallTimer = (): void => {
    clearTimeout(stallTimer);
    stallTimer = setTimeout(() => controller.abort(new Error('stalled')), policy.stallTimeoutMs);
  };

  let file: FileHandle | undefined;
  let transferring = false;
  try {
    armStallTimer();
    let response: Response;
    try {
      response = await fetch(target.url, {
        headers: { 'user-agent': USER_AGENT, ...(offset > 0 ? { range: `bytes=${offset}-` } : {}) },
        redirect: 'follow',
        signal: controller.signal,
      });
    } catch (err) {
      throw new RetryableFailure(controller.signal.aborted ? 'timed out' : describeNetworkError(err));
    }

    const status = response.status;
    if (status === 404 || status === 410) {
      await response.body?.cancel().catch(() => undefined);
      throw new FileNotOnHubError(target.name, status);
    }
    if (status === 416 && offset > 0) {
      // The partial data is not a prefix the server recognises (or already whole but unverifiable):
      // start this file over.
      await response.body?.cancel().catch(() => undefined);
      await rm(part, { force: true });
      throw new RetryableFailure('server refused to resume (HTTP 416)');
    }
    if (isRetryableStatus(status)) {
      await response.body?.cancel().catch(() => undefined);
      throw new RetryableFailure(`HTTP ${status} ${response.statusText}`.trim(), parseRetryAfter(response.headers.get('retry-after')));
    }
    if (status !== 200 && status !== 206) {
      await response.body?.cancel().catch(() => undefined);
      throw new CoromError(`${target.name}: the hub answered HTTP ${status} ${response.statusText}`.trim());
    }

    let start = 0;
    let total = expectedTotal;
    const length = response.headers.get('content-length');
    if (status === 206) {
      const range = parseContentRange(response.headers.get('content-range'));
      if (!range || range.start !== offset) {
        // A 206 for some other range than asked would splice wrong bytes into the file.
        await response.body?.cancel().catch(() => undefined);
        await rm(part, { force: true });
        throw new RetryableFailure(`server answered Range bytes=${offset}- with ${response.headers.get('content-range') ?? 'no Content-Range'}`);
      }
      start = offset;
      state.resumed = true;
      total ??= range.total;
    } else {
      // 200: the whole file, whether or not we asked for a range.
      if (length !== null && /^\d+$/.test(length)) total ??= Number(length);
    }
    if (expectedTotal !== undefined && total !== undefined && total !== expectedTotal) {
      await response.body?.cancel().catch(() => undefined);
      await rm(part, { force: true });
      throw new ModelFileError(
        target.name,
        `size mismatch: the hub lists ${expectedTotal} bytes but serves ${total}; nothing was kept`,
      );
    }

    if (status === 200 && offset > 0) {
      progress.note(`${target.name}: the server ignored the Range request; downloading it again from the start`);
    }
    file = await open(part, start > 0 ? 'a' : 'w');
    progress.begin(target.name, total, start);
    transferring = true;
    let written = start;
    if (response.body) {
      const reader = response.body.getReader();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          armStallTimer();
          written += value.byteLength;
          if (total !== undefined && written > total) {
            throw new ModelFileError(target.name, `the hub sent more than the expected ${total} bytes`);
          }
          for (let at = 0; at < value.byteLength; ) {
            const { bytesWritten } = await file.write(value, at, value.byteLength - at);
            at += bytesWritten;
          }
          progress.advance(value.byteLength);
        }
      } catch (err) {
        await reader.cancel().catch(() => undefined);
        if (err instanceof CoromError) throw err;
        throw new RetryableFailure(controller.signal.aborted ? 'connection stalled' : describeNetworkError(err));
      }
    }
    await file.close();
    file = undefined;
    if (total !== undefined && written < total) {
      throw new RetryableFailure(`connection closed after ${written} of ${total} bytes`);
    }
    progress.end();
    transferring = false;
    return { complete: true, total: total ?? written };
  } finally {
    clearTimeout(stallTimer);
    if (transferring) progress.abort();
    await file?.close().catch(() => undefined);
  }
}
