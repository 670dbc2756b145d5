/**
 * The one rule for "is another corom process working here": a lock file created with O_EXCL that
 * holds the owner's pid, stale once that pid is gone. `corom fetch` locks a model folder with it
 * (two `corom serve` starting together would otherwise append to the same .part file), and the
 * same pid test tells a temporary file of a killed writer (./files.ts) from a live one's.
 */
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { CoromError } from '../errors.js';

export const LOCK_FILE = '.lock';

/** True while process `pid` exists (EPERM: it exists but belongs to another user). */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface FolderLock {
  release(): Promise<void>;
}

/**
 * Takes `folder`'s lock (creating the folder), taking over a stale one. `activity` completes the
 * refusal "another corom process (pid N) is <activity> <folder>", e.g. "fetching into".
 */
export async function lockFolder(folder: string, activity: string): Promise<FolderLock> {
  await mkdir(folder, { recursive: true });
  const lockFile = path.join(folder, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(lockFile, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      return { release: () => rm(lockFile, { force: true }) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number((await readFile(lockFile, 'utf8').catch(() => '')).trim());
      if (isProcessAlive(owner)) {
        throw new CoromError(
          `another corom process (pid ${owner}) is ${activity} ${folder}; wait for it to finish (or delete ${lockFile} if it is gone)`,
        );
      }
      await rm(lockFile, { force: true }); // stale: its process has exited
    }
  }
  throw new CoromError(`cannot lock ${folder} (${lockFile} keeps reappearing)`);
}
