/**
 * The edge artifact in R2: for model id M the Worker reads
 *   models/M/model.q4.onnx   the 4-bit ONNX graph
 *   models/M/vocab.txt       WordPiece vocabulary
 *   models/M/corom.json      converted-folder metadata (hidden, maxLength, pooling, dtypes, ...)
 *   models/M/tokenizer_config.json   only when the checkpoint had one
 * uploaded with `wrangler r2 object put BUCKET/KEY --file F --remote` per object. With a shard set
 * (`--shards int8`, corom.json `shards.int8`) the model files are the shards instead:
 *   models/M/model.int8.shard<k>of<N>.ort   what the shard Workers load (and the .onnx beside it)
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoromError, ModelFileError } from '../errors.js';
import { readConvertedMetadata } from '../store/files.js';
import { modelFileName } from '../store/metadata.js';
import type { Dtype } from '../engine/types.js';

export const R2_KEY_ROOT = 'models';
export const EDGE_DTYPE = 'q4' as const;
/** wrangler refuses larger single-object uploads (MAX_UPLOAD_SIZE_BYTES in wrangler 4). */
export const WRANGLER_MAX_UPLOAD_BYTES = 300 * 1024 * 1024;

/** The R2 key prefix the Worker expects for model `id`. */
export function edgeKeyPrefix(id: string): string {
  return `${R2_KEY_ROOT}/${id}`;
}

export interface R2Object {
  key: string;
  file: string;
  contentType: string;
  bytes: number;
}

async function fileBytes(file: string): Promise<number | undefined> {
  return stat(file).then((s) => (s.isFile() ? s.size : undefined), () => undefined);
}

/**
 * The objects of the edge artifact in converted folder `onnxDir`, keyed under `prefix`: the q4
 * model, or with `shards` the shard set of that dtype (every shard's .onnx and .ort).
 */
export async function edgeArtifactObjects(onnxDir: string, prefix: string, options: { shards?: Dtype } = {}): Promise<R2Object[]> {
  const meta = await readConvertedMetadata(onnxDir);
  if (!meta) throw new ModelFileError(path.join(onnxDir, 'corom.json'), 'file not found (not a converted model folder)');
  const modelFile = meta.dtypes[EDGE_DTYPE]?.file ?? modelFileName(EDGE_DTYPE);
  const binary = (name: string) => ({ name, contentType: 'application/octet-stream', required: true });
  let modelFiles: Array<{ name: string; contentType: string; required: boolean }>;
  if (options.shards) {
    const set = meta.shards?.[options.shards];
    if (!set) {
      throw new ModelFileError(
        path.join(onnxDir, 'corom.json'),
        `has no ${options.shards} shard set (has: ${Object.keys(meta.shards ?? {}).join(', ') || 'none'}); convert with \`corom convert SRC ${onnxDir} --dtype ${options.shards} --shards N --ort-format\``,
      );
    }
    const missingOrt = set.shards.find((s) => !s.ortFile);
    if (missingOrt) throw new ModelFileError(path.join(onnxDir, missingOrt.file), 'has no ORT-format copy, which the shard Workers load; convert again with --ort-format');
    modelFiles = set.shards.flatMap((s) => [binary(s.file), binary(s.ortFile!)]);
  } else {
    modelFiles = [
      binary(modelFile),
      // ONNX external data: the graph names this file, so it keeps its name beside the graph.
      ...(meta.dtypes[EDGE_DTYPE]?.externalData ? [binary(meta.dtypes[EDGE_DTYPE]!.externalData!)] : []),
    ];
  }
  const wanted: Array<{ name: string; contentType: string; required: boolean }> = [
    ...modelFiles,
    { name: 'vocab.txt', contentType: 'text/plain; charset=utf-8', required: true },
    { name: 'corom.json', contentType: 'application/json', required: true },
    { name: 'tokenizer_config.json', contentType: 'application/json', required: false },
  ];
  const cleanPrefix = prefix.replace(/^\/+|\/+$/g, '');
  const objects: R2Object[] = [];
  for (const w of wanted) {
    const file = path.join(onnxDir, w.name);
    const bytes = await fileBytes(file);
    if (bytes === undefined) {
      if (w.required) throw new ModelFileError(file, 'file not found');
      continue;
    }
    if (bytes > WRANGLER_MAX_UPLOAD_BYTES) {
      throw new ModelFileError(file, `is ${bytes} bytes, over wrangler's ${WRANGLER_MAX_UPLOAD_BYTES}-byte upload limit`);
    }
    const key = `${cleanPrefix}/${!options.shards && w.name === modelFile ? modelFileName(EDGE_DTYPE) : w.name}`;
    objects.push({ key, file, contentType: w.contentType, bytes });
  }
  return objects;
}

/** Arguments after `wrangler` for one object. */
export function wranglerPutArgs(bucket: string, object: R2Object, target: 'remote' | 'local'): string[] {
  return ['r2', 'object', 'put', `${bucket}/${object.key}`, '--file', object.file, '--content-type', object.contentType, `--${target}`];
}

/**
 * How to run wrangler: COROM_WRANGLER if set, else this package's node_modules/.bin/wrangler,
 * else `npx wrangler`.
 */
export function wranglerCommand(env: NodeJS.ProcessEnv): { command: string; prefixArgs: string[] } {
  const configured = env.COROM_WRANGLER?.trim();
  if (configured) return { command: configured, prefixArgs: [] };
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const bin = path.join(dir, 'node_modules', '.bin', process.platform === 'win32' ? 'wrangler.cmd' : 'wrangler');
    if (existsSync(bin)) return { command: bin, prefixArgs: [] };
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return { command: process.platform === 'win32' ? 'npx.cmd' : 'npx', prefixArgs: ['wrangler'] };
}

/** A command line as one could paste it into a POSIX shell. */
export function shellQuote(args: readonly string[]): string {
  return args.map((a) => (/^[A-Za-z0-9_./:=@%+-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** Runs one wrangler command, forwarding its output; a non-zero exit is a CoromError. */
export function runWrangler(
  command: string,
  args: readonly string[],
  io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream; env: NodeJS.ProcessEnv },
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: io.env });
    child.stdout.on('data', (chunk: Buffer) => io.stdout.write(chunk));
    child.stderr.on('data', (chunk: Buffer) => io.stderr.write(chunk));
    child.on('error', (err: NodeJS.ErrnoException) => {
      reject(
        new CoromError(
          err.code === 'ENOENT'
            ? `cannot run ${command}: not found (install wrangler, or set COROM_WRANGLER to its path)`
            : `cannot run ${command}: ${err.message}`,
        ),
      );
    });
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new CoromError(`wrangler failed (${signal ? `signal ${signal}` : `exit ${code}`}): ${shellQuote([command, ...args])}`));
    });
  });
}
