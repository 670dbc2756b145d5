/**
 * On-disk cache of passage vectors, so that a second evaluation of the same collection with the same
 * model skips the embedding, and a killed run resumes. One folder per cache key (model folder and
 * its files' sizes/mtimes, dtype, max length, windowing, dataset hash); inside, the collection is cut
 * into chunks of `chunkPassages` passages, each written to a temporary file and renamed into place,
 * so a chunk file either is complete or does not exist.
 *
 * Chunk file (little-endian): "CRV1", u32 passageCount, u32 dims, u32 rows,
 * u32 windowCounts[passageCount], f32 vectors[rows * dims].
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CoromError } from '../errors.js';
import { coromHome } from '../hub/paths.js';
import { atomicWrite, removeOrphanedTemporaries } from '../store/files.js';

const MAGIC = 0x31565243; // "CRV1" read as a little-endian u32
const HEADER_BYTES = 16;

export interface VectorCacheLayout {
  passages: number;
  dims: number;
  chunkPassages: number;
}

export interface CachedChunk {
  windowCounts: Uint32Array;
  vectors: Float32Array;
}

/** $COROM_CACHE_DIR, else eval-cache/ under $COROM_HOME (~/.cache/corom), beside the model cache. */
export function defaultCacheRoot(env: NodeJS.ProcessEnv): string {
  if (env.COROM_CACHE_DIR) return resolve(env.COROM_CACHE_DIR);
  return join(coromHome(env), 'eval-cache');
}

/** SHA-256 of the passage ids and texts, length-prefixed so that no two collections collide by concatenation. */
export function hashCollection(ids: readonly string[], texts: readonly string[]): string {
  const hash = createHash('sha256');
  for (let i = 0; i < ids.length; i++) {
    hash.update(`${ids[i]!.length}:${ids[i]}\u0000${texts[i]!.length}:`);
    hash.update(texts[i]!);
    hash.update('\u0000');
  }
  return hash.digest('hex');
}

/** Names, sizes and modification times of the files in a model folder: a re-converted model gets a new key. */
export async function modelFingerprint(modelDir: string): Promise<{ path: string; files: [string, number, number][] }> {
  const path = resolve(modelDir);
  const files: [string, number, number][] = [];
  try {
    for (const name of (await readdir(path)).sort()) {
      const info = await stat(join(path, name));
      if (info.isFile()) files.push([name, info.size, Math.floor(info.mtimeMs)]);
    }
  } catch {
    // A model path that is not a folder: its own stat is the fingerprint.
    const info = await stat(path).catch(() => undefined);
    if (info) files.push(['', info.size, Math.floor(info.mtimeMs)]);
  }
  return { path, files };
}

export class VectorCache {
  private constructor(
    readonly dir: string,
    readonly layout: VectorCacheLayout,
  ) {}

  /** Opens (creating) the folder for `key`; a folder written with another layout is emptied. */
  static async open(root: string, key: unknown, layout: VectorCacheLayout): Promise<VectorCache> {
    const digest = createHash('sha256').update(JSON.stringify(key)).digest('hex').slice(0, 32);
    const dir = join(root, 'eval-vectors', digest);
    try {
      await mkdir(dir, { recursive: true });
      const metaPath = join(dir, 'meta.json');
      const meta = { format: 1, key, layout };
      const previous = await readFile(metaPath, 'utf8').then(
        (text) => JSON.parse(text) as { layout?: VectorCacheLayout },
        () => undefined,
      );
      const same =
        previous?.layout?.passages === layout.passages &&
        previous.layout.dims === layout.dims &&
        previous.layout.chunkPassages === layout.chunkPassages;
      if (!same) {
        for (const name of await readdir(dir)) if (name.startsWith('chunk-')) await rm(join(dir, name), { force: true });
        await atomicWrite(metaPath, JSON.stringify(meta, null, 2) + '\n');
      }
      // Temporary files of killed runs (their writer is gone); a live writer's file is left alone.
      await removeOrphanedTemporaries(dir);
    } catch (err) {
      throw new CoromError(`cannot use the vector cache folder ${dir}: ${err instanceof Error ? err.message : String(err)} (set --cache-dir or --no-cache)`);
    }
    return new VectorCache(dir, layout);
  }

  get chunkCount(): number {
    return Math.ceil(this.layout.passages / this.layout.chunkPassages);
  }

  passagesInChunk(chunk: number): number {
    return Math.min(this.layout.chunkPassages, this.layout.passages - chunk * this.layout.chunkPassages);
  }

  private chunkPath(chunk: number): string {
    return join(this.dir, `chunk-${String(chunk).padStart(6, '0')}.bin`);
  }

  /** The chunk if a complete, consistent file holds it; undefined otherwise (to be recomputed). */
  async read(chunk: number): Promise<CachedChunk | undefined> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.chunkPath(chunk));
    } catch {
      return undefined;
    }
    if (bytes.length < HEADER_BYTES) return undefined;
    // Copy into a fresh, aligned ArrayBuffer: Buffers may sit at any offset of a shared pool.
    const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length);
    const header = new Uint32Array(buffer, 0, 4);
    const [magic, passages, dims, rows] = header as unknown as [number, number, number, number];
    if (magic !== MAGIC || passages !== this.passagesInChunk(chunk) || dims !== this.layout.dims) return undefined;
    if (bytes.length !== HEADER_BYTES + 4 * passages + 4 * rows * dims) return undefined;
    const windowCounts = new Uint32Array(buffer, HEADER_BYTES, passages);
    let total = 0;
    for (const count of windowCounts) total += count;
    if (total !== rows) return undefined;
    return { windowCounts, vectors: new Float32Array(buffer, HEADER_BYTES + 4 * passages, rows * dims) };
  }

  async write(chunk: number, data: CachedChunk): Promise<void> {
    const passages = data.windowCounts.length;
    const rows = data.vectors.length / this.layout.dims;
    const header = new Uint32Array([MAGIC, passages, this.layout.dims, rows]);
    const path = this.chunkPath(chunk);
    try {
      await atomicWrite(path, Buffer.concat([
        new Uint8Array(header.buffer),
        new Uint8Array(data.windowCounts.buffer, data.windowCounts.byteOffset, data.windowCounts.byteLength),
        new Uint8Array(data.vectors.buffer, data.vectors.byteOffset, data.vectors.byteLength),
      ]));
    } catch (err) {
      throw new CoromError(`cannot write the vector cache file ${path}: ${err instanceof Error ? err.message : String(err)} (set --cache-dir or --no-cache)`);
    }
  }
}
