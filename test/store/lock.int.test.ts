/** The one lock (src/store/lock.ts) and the orphaned-temporary sweep that shares its pid rule. */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { atomicWrite, removeOrphanedTemporaries } from '../../src/store/files.js';
import { isProcessAlive, LOCK_FILE, lockFolder } from '../../src/store/lock.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'corom-lock-test-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The pid of a process that has certainly exited: a child we ran to completion. */
function exitedPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

describe('folder lock', () => {
  it('lets one process at a time into a folder and frees the folder afterwards', async () => {
    const lock = await lockFolder(dir, 'fetching into');
    await expect(lockFolder(dir, 'fetching into')).rejects.toThrow(`another corom process (pid ${process.pid}) is fetching into ${dir}`);
    await lock.release();
    const again = await lockFolder(dir, 'fetching into');
    await again.release();
    expect(await readdir(dir)).toEqual([]);
  });

  it('takes over a lock whose process has exited', async () => {
    const pid = exitedPid();
    expect(isProcessAlive(pid)).toBe(false);
    await writeFile(path.join(dir, LOCK_FILE), String(pid));
    const lock = await lockFolder(dir, 'fetching into');
    await lock.release();
  });

  it('treats an unreadable lock file as stale', async () => {
    await writeFile(path.join(dir, LOCK_FILE), 'not a pid');
    const lock = await lockFolder(dir, 'fetching into');
    await lock.release();
  });

  it('knows this process is alive and nonsense pids are not', () => {
    expect(isProcessAlive(process.pid)).toBe(true);
    for (const pid of [0, -1, 1.5, Number.NaN]) expect(isProcessAlive(pid)).toBe(false);
  });
});

describe('atomic writes', () => {
  it('leave only the target, and the sweep removes a killed writer\'s temporary but not a live one\'s', async () => {
    const target = path.join(dir, 'corom.json');
    await atomicWrite(target, '{}\n');
    expect(await readdir(dir)).toEqual(['corom.json']);
    const dead = `corom.json.tmp-${exitedPid()}-1`;
    const live = `corom.json.tmp-${process.pid}-2`;
    await writeFile(path.join(dir, dead), 'partial');
    await writeFile(path.join(dir, live), 'in progress');
    await removeOrphanedTemporaries(dir);
    expect((await readdir(dir)).sort()).toEqual(['corom.json', live]);
  });
});
