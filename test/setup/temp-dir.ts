/**
 * Global setup: every test process writes its temporary files under one directory of this run,
 * removed when the run ends. Tests make dozens of `mkdtemp` folders (converted models, fake hubs,
 * CLI outputs) and not all of them can clean up after a failure or a killed child; without this a
 * developer's /tmp gathered hundreds of them. `os.tmpdir()` reads TMPDIR on every call, and the
 * test processes (forks) and what they spawn (the CLI, wrangler, workerd, Chromium) inherit it.
 * Runs once per project; only the first call creates (and later removes) the directory.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const MARK = 'COROM_TEST_TMPDIR';

export default async function setup(): Promise<(() => Promise<void>) | undefined> {
  if (process.env[MARK]) return undefined;
  const dir = await mkdtemp(join(tmpdir(), 'corom-tests-'));
  process.env[MARK] = dir;
  process.env.TMPDIR = dir;
  return async () => {
    await rm(dir, { recursive: true, force: true, maxRetries: 3 });
  };
}
