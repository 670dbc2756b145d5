/**
 * Reading and writing a converted folder on disk. Every write goes to a temporary file beside the
 * target and is renamed into place, so a crash never leaves a file that looks complete.
 */
import { readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { exists, readJsonFile } from '../checkpoint/read.js';
import { ModelFileError } from '../errors.js';
import { isProcessAlive } from './lock.js';
import { looksLikeConvertedMetadata, METADATA_FILE, type ConvertedMetadata } from './metadata.js';

const TEMPORARY = /\.tmp-(\d+)-\d+$/;

/** Writes next to the target then renames; the temporary name carries the writer's pid. */
export async function atomicWrite(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** corom.json of `dir`; undefined when there is none, ModelFileError when it is not one we understand. */
export async function readConvertedMetadata(dir: string): Promise<ConvertedMetadata | undefined> {
  const path = join(dir, METADATA_FILE);
  if (!(await exists(path))) return undefined;
  const meta = await readJsonFile(path);
  if (!looksLikeConvertedMetadata(meta)) throw new ModelFileError(path, 'not a corom.json this version understands');
  if (meta.task !== undefined && meta.task !== 'embedding' && meta.task !== 'rerank') {
    throw new ModelFileError(path, `unknown task ${JSON.stringify(meta.task)} (this version knows "embedding" and "rerank")`);
  }
  return meta;
}

export async function writeConvertedMetadata(dir: string, meta: ConvertedMetadata): Promise<void> {
  await atomicWrite(join(dir, METADATA_FILE), JSON.stringify(meta, null, 2) + '\n');
}

/** Deletes the temporary files atomicWrite left in `dir` when its writer was killed; a live writer's stay. */
export async function removeOrphanedTemporaries(dir: string): Promise<void> {
  for (const name of await readdir(dir)) {
    const writer = TEMPORARY.exec(name);
    if (writer && !isProcessAlive(Number(writer[1]))) await rm(join(dir, name), { force: true });
  }
}
