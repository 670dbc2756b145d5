/**
 * Which local folder `corom serve` serves when no --model is given:
 *   1. COROM_MODEL, when it names a folder (a ModelScope checkout or a converted folder);
 *   2. COROM_MODEL as a registry name or hub id, else corom-base: the cached conversion, converting
 *      the cached checkpoint if needed (no network), else fetching and converting it (with progress).
 * Offline with nothing cached, it fails with one line saying how to provide the model.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_MODEL_NAME, findKnownModel } from '../../models/registry.js';
import type { Dtype } from '../engine/types.js';
import { CoromError, ModelFileError } from '../errors.js';
import { inspectCachedModel } from './cache.js';
import { HubNotFoundError, HubUnreachableError } from './errors.js';
import { convertMissing, fetchModel, resolveModelRef } from './fetch-model.js';
import { coromHome, looksLikeHubId } from './paths.js';
import { createProgress } from './progress.js';

export interface ResolveModelOptions {
  env: NodeJS.ProcessEnv;
  /** Progress of a first-run download and conversion. */
  stderr: NodeJS.WritableStream;
  /**
   * The dtype the caller will load; the returned converted folder is guaranteed to hold it.
   * Default fp32 (DEFAULT_SERVE_DTYPE).
   */
  dtype?: Dtype;
}

/**
 * The dtype a registry model is converted to and served in when the caller does not say: fp32,
 * the one default precision everywhere (`corom serve`, the in-process LangChain embeddings, the
 * engine): the model card's numbers and ModelScope parity, as TEI and infinity do on CPU. int8 and
 * q4 are one flag away (--dtype / COROM_DTYPE); README gives their measured speed-up and fidelity.
 */
export const DEFAULT_SERVE_DTYPE: Dtype = 'fp32';

async function folderKind(p: string): Promise<'dir' | 'file' | undefined> {
  try {
    return (await stat(p)).isDirectory() ? 'dir' : 'file';
  } catch {
    return undefined;
  }
}

async function hasFile(dir: string, name: string): Promise<boolean> {
  return (await folderKind(path.join(dir, name))) === 'file';
}

/** COROM_MODEL, or the cached / freshly fetched corom-base, as a local folder to serve. */
export async function resolveDefaultModel(opts: ResolveModelOptions): Promise<string> {
  const configured = opts.env.COROM_MODEL?.trim();
  if (configured) return resolveModelFolder(configured, opts, 'COROM_MODEL');
  return resolveModelFolder(DEFAULT_MODEL_NAME, opts, undefined);
}

/**
 * A model spec (folder path, registry name or hub id) as a local folder. `origin` names where the
 * spec came from ("COROM_MODEL", "--model") for error messages.
 */
export async function resolveModelFolder(spec: string, opts: ResolveModelOptions, origin: string | undefined): Promise<string> {
  const label = origin ? `${origin}=${spec}` : spec;
  const kind = await folderKind(spec);
  if (kind === 'file') {
    throw new ModelFileError(spec, `is a file; ${origin ?? 'the model'} must name a model folder (config.json + weights, or a converted folder with corom.json)`);
  }
  if (kind === 'dir') {
    const dir = path.resolve(spec);
    if (!(await hasFile(dir, 'corom.json')) && !(await hasFile(dir, 'config.json'))) {
      throw new ModelFileError(dir, 'is neither a converted model folder (corom.json) nor a checkpoint folder (config.json)');
    }
    return dir;
  }
  if (!findKnownModel(spec) && !looksLikeHubId(spec)) {
    throw new CoromError(`${label}: no such folder, and not a known model name (see 'corom models')`, { exitCode: 2 });
  }
  return ensureConverted(spec, opts, label);
}

async function ensureConverted(spec: string, opts: ResolveModelOptions, label: string): Promise<string> {
  const ref = resolveModelRef(spec);
  const dtype = opts.dtype ?? DEFAULT_SERVE_DTYPE;
  const home = coromHome(opts.env);
  const cached = await inspectCachedModel(home, ref.hubId);
  if (cached.dtypes.includes(dtype)) return cached.paths.onnx;
  if (cached.source) {
    await convertMissing(cached.source, cached.paths.source, cached.paths.onnx, [dtype], createProgress(opts.stderr));
    return cached.paths.onnx;
  }
  try {
    const result = await fetchModel({ model: spec, env: opts.env, stderr: opts.stderr, dtypes: [dtype] });
    return result.onnxDir;
  } catch (err) {
    if (err instanceof HubUnreachableError) {
      throw new CoromError(
        `no model to serve: ${ref.id} is not cached in ${home} and ${err.message}. ` +
          `Provide it with COROM_MODEL=/path/to/model (a ModelScope checkout or converted folder), ` +
          `run 'corom fetch ${ref.id}' once online, or set COROM_HUB_URL to a reachable mirror`,
        { exitCode: err.exitCode, cause: err },
      );
    }
    if (err instanceof HubNotFoundError && label.includes('=')) {
      throw new CoromError(`${label}: not a folder, and ${err.message}`, { exitCode: err.exitCode, cause: err });
    }
    throw err;
  }
}
