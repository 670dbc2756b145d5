/**
 * The one stamp that decides whether a converted folder is stale: the source weights' size, mtime
 * and sha256, recorded in corom.json (`weights`) at conversion.
 *
 * Why all three: a hash alone (what `corom fetch` used) costs a full read of a 400 MB file on every
 * `corom serve` start; size and mtime alone (what the engine's loader used) reconvert after a mere
 * touch or copy (`cp` without -p, a git checkout, an rsync) although the weights are the same, and
 * a conversion takes far longer than a hash. So: a different size is stale at once (no hashing);
 * the same size and mtime is fresh at once; the same size with a new mtime is settled by the
 * sha256, and when it matches the caller records the new mtime so the next start is fast again.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { WeightsStamp } from './metadata.js';

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Stamps the weights file `file` as it is now. */
export async function stampWeights(file: string): Promise<WeightsStamp> {
  const before = await stat(file);
  const sha256 = await sha256File(file);
  return { file: basename(file), size: before.size, mtimeMs: Math.floor(before.mtimeMs), sha256 };
}

/**
 * `stale`: the weights differ from the recorded ones (or nothing was recorded); `fresh`: they are
 * the same bytes; `touched`: the same bytes under a new mtime (`stamp` is the one to record).
 */
export type StampCheck = { state: 'stale' } | { state: 'fresh' } | { state: 'touched'; stamp: WeightsStamp };

export async function checkWeights(recorded: WeightsStamp | undefined, file: string): Promise<StampCheck> {
  if (!recorded || recorded.file !== basename(file)) return { state: 'stale' };
  const now = await stat(file);
  if (now.size !== recorded.size) return { state: 'stale' };
  if (Math.floor(now.mtimeMs) === recorded.mtimeMs) return { state: 'fresh' };
  const stamp = await stampWeights(file);
  return stamp.sha256 === recorded.sha256 && stamp.size === recorded.size ? { state: 'touched', stamp } : { state: 'stale' };
}
