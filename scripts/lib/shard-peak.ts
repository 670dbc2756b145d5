/**
 * Measures one shard as the Worker loads it (see shard-peak-child.ts) in a fresh child process.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import type { ShardPeakRequest, ShardPeakResult } from './shard-peak-child.js';

export type { ShardPeakRequest, ShardPeakResult };

export async function measureShardPeak(request: ShardPeakRequest): Promise<ShardPeakResult> {
  const dir = await mkdtemp(join(tmpdir(), 'corom-shard-peak-'));
  const out = join(dir, 'result.json');
  const child = fileURLToPath(new URL('./shard-peak-child.ts', import.meta.url));
  try {
    await promisify(execFile)(process.execPath, ['--expose-gc', '--no-liftoff', '--import', 'tsx', child, JSON.stringify(request), out], { maxBuffer: 1 << 24 });
    return JSON.parse(await readFile(out, 'utf8')) as ShardPeakResult;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
