/**
 * One process at a time fetches/converts a given model folder (two `corom serve` starting together
 * would otherwise append to the same .part file). The lock is a file created with O_EXCL holding
 * the owner's pid; a lock whose pid is gone is stale and taken over.
 */
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { CoromError } from '../errors.js';

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface ModelLock {
  release(): Promise<void>;
}

export async function lockModelFolder(folder: string): Promise<ModelLock> {
  await mkdir(folder, { recursive: true });
  const lockFile = path.join(folder, '.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(lockFile, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      return { release: () => rm(lockFile, { force: true }) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number((await readFile(lockFile, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(owner) && owner > 0 && processIsAlive(owner)) {
        throw new CoromError(
          `another corom process (pid ${owner}) is fetching into ${folder}; wait for it to finish (or delete ${lockFile} if it is gone)`,
        );
      }
      await rm(lockFile, { force: true }); // stale: its process has exited
    }
  }
  throw new CoromError(`cannot lock ${folder} (${lockFile} keeps reappearing)`);
}
