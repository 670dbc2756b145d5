/**
 * `corom fetch` as a function: download a coROM checkpoint from the hub into the cache (verified,
 * resumable), then convert it with convertCheckpoint into the dtypes asked for.
 */
import { performance } from 'node:perf_hooks';
import { rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_MODEL_NAME, KNOWN_MODELS, findKnownModel, type KnownModel } from '../../models/registry.js';
import type { Dtype } from '../engine/types.js';
import { CoromError, UsageError } from '../errors.js';
import { convertIfStale } from '../store/convert.js';
import { lockFolder } from '../store/lock.js';
import { modelFileName } from '../store/metadata.js';
import { sha256File } from '../store/stamp.js';
import { completeSource, convertedDtypes, sourceLabel, writeSourceManifest, type SourceManifest } from './cache.js';
import { downloadFile, FileNotOnHubError } from './download.js';
import { HubNotFoundError } from './errors.js';
import {
  DEFAULT_HUB_URL,
  defaultRevision,
  fileUrl,
  layoutFromHost,
  listModelScopeFiles,
  normalizeHubUrl,
  type HubLayout,
  type HubLayoutOption,
  type RemoteFile,
} from './hub-client.js';
import { coromHome, looksLikeHubId, modelCachePaths } from './paths.js';
import { createProgress, formatBytes, formatDuration, type ProgressMode, type TransferProgress } from './progress.js';
import { retryPolicyFrom, type RetryPolicy } from './retry.js';

/** Converted by default: fp32 for the Node server (its default dtype), q4 as the edge (Workers) artifact. */
export const DEFAULT_FETCH_DTYPES: readonly Dtype[] = ['fp32', 'q4'];

const REQUIRED_FILES = ['config.json', 'vocab.txt'] as const;
const OPTIONAL_FILES = ['configuration.json', 'tokenizer_config.json', 'special_tokens_map.json'] as const;
/** In order of preference. */
const WEIGHT_FILES = ['model.safetensors', 'pytorch_model.bin'] as const;

export interface ModelRef {
  /** Served id: the registry's short name, or the hub id for models outside the registry. */
  id: string;
  /** Canonical hub id; the cache folder is named after it. */
  hubId: string;
  /** Hub ids to try, canonical first (then the pre-rename `damo/` alias). */
  candidates: string[];
  known: KnownModel | undefined;
}

/** Resolves a registry name or hub id ("corom-base", "damo/nlp_corom_...", "owner/name"). */
export function resolveModelRef(model: string): ModelRef {
  const known = findKnownModel(model);
  if (known) return { id: known.name, hubId: known.hubId, candidates: [known.hubId, ...known.aliases], known };
  const trimmed = model.trim();
  if (looksLikeHubId(trimmed)) return { id: trimmed, hubId: trimmed, candidates: [trimmed], known: undefined };
  throw new UsageError(
    `unknown model '${model}' (known: ${KNOWN_MODELS.map((m) => m.name).join(', ')}; or give a ModelScope id such as ${KNOWN_MODELS[0]!.hubId})`,
  );
}

/** The hub base URL: the flag, else COROM_HUB_URL, else ModelScope. */
export function resolveHubUrl(env: NodeJS.ProcessEnv, flag?: string): string {
  if (flag !== undefined) return normalizeHubUrl(flag, '--hub');
  const fromEnv = env.COROM_HUB_URL?.trim();
  if (fromEnv) return normalizeHubUrl(fromEnv, 'COROM_HUB_URL');
  return DEFAULT_HUB_URL;
}

export interface FetchModelOptions {
  /** Registry name or hub id; default corom-base. */
  model?: string;
  env: NodeJS.ProcessEnv;
  /** Progress and status lines go here. */
  stderr: NodeJS.WritableStream;
  hubUrl?: string;
  layout?: HubLayoutOption;
  /** Default: master (ModelScope) / main (Hugging Face). */
  revision?: string;
  /** Dtypes to convert to; [] downloads only. Default DEFAULT_FETCH_DTYPES (fp32 and q4). */
  dtypes?: readonly Dtype[];
  /** Download and convert again even when cached. */
  force?: boolean;
  progress?: ProgressMode;
  /** Overrides of the retry policy (tests use tiny backoffs). */
  retry?: Partial<RetryPolicy>;
}

export interface FetchModelResult {
  id: string;
  hubId: string;
  hubUrl: string;
  layout: HubLayout;
  revision: string;
  sourceDir: string;
  onnxDir: string;
  /** Files transferred in this run. */
  downloaded: string[];
  /** Files already cached and verified. */
  reused: string[];
  /** Dtypes converted in this run. */
  converted: Dtype[];
  /** Dtypes the onnx folder now offers. */
  dtypes: Dtype[];
}

interface Plan {
  layout: HubLayout;
  hubId: string;
  revision: string;
  /** Known from a listing (ModelScope); undefined for Hugging Face, where files are probed. */
  listing: RemoteFile[] | undefined;
  /** The Hugging Face layout was chosen because the hub did not answer ModelScope's API. */
  fellBack: boolean;
}

export async function fetchModel(options: FetchModelOptions): Promise<FetchModelResult> {
  const ref = resolveModelRef(options.model ?? DEFAULT_MODEL_NAME);
  const hubUrl = resolveHubUrl(options.env, options.hubUrl);
  const policy = retryPolicyFrom(options.env, options.retry);
  const home = coromHome(options.env);
  const paths = modelCachePaths(home, ref.hubId);
  const progress = createProgress(options.stderr, options.progress ?? 'auto');
  const dtypes = [...new Set(options.dtypes ?? DEFAULT_FETCH_DTYPES)];

  const lock = await lockFolder(paths.root, 'fetching into');
  try {
    let manifest = options.force ? undefined : await completeSource(paths.source);
    const downloaded: string[] = [];
    const reused: string[] = [];
    if (manifest && options.revision !== undefined && manifest.revision !== options.revision) manifest = undefined;
    if (manifest) {
      progress.note(`using cached ${ref.hubId} (${manifest.revision}) in ${paths.source}`);
      reused.push(...manifest.files.map((f) => f.path));
    } else {
      const plan = await planFetch(ref, hubUrl, options.layout ?? 'auto', options.revision, policy);
      progress.note(`fetching ${plan.hubId} (${plan.revision}) from ${hubUrl} into ${paths.source}`);
      manifest = await downloadCheckpoint(plan, hubUrl, paths.source, policy, progress, options.force === true, downloaded, reused);
      await writeSourceManifest(paths.source, manifest);
    }

    // New source bytes make every earlier conversion stale.
    if (options.force || downloaded.length > 0) await rm(paths.onnx, { recursive: true, force: true });
    const converted = await convertMissing(manifest, paths.source, paths.onnx, dtypes, progress);
    return {
      id: ref.id,
      hubId: ref.hubId,
      hubUrl: manifest.hubUrl,
      layout: manifest.layout,
      revision: manifest.revision,
      sourceDir: paths.source,
      onnxDir: paths.onnx,
      downloaded,
      reused,
      converted,
      dtypes: await convertedDtypes(paths.onnx),
    };
  } finally {
    await lock.release();
  }
}

/** Converts the dtypes not yet present (for these source weights) in the onnx folder. */
export async function convertMissing(
  manifest: SourceManifest,
  sourceDir: string,
  onnxDir: string,
  dtypes: readonly Dtype[],
  progress: TransferProgress,
): Promise<Dtype[]> {
  const converted: Dtype[] = [];
  for (const dtype of dtypes) {
    let started = 0;
    // The q4 edge artifact keeps its weights in ONNX external data: onnxruntime-web then needs far
    // less memory to load it (docs/edge-memory.md), which is what decides whether it fits a Worker.
    const { converted: result } = await convertIfStale(
      sourceDir,
      onnxDir,
      { dtype, pooling: 'cls', externalData: dtype === 'q4' },
      {
        source: sourceLabel(manifest),
        beforeConvert: () => {
          progress.note(`converting ${manifest.hubId} to ${modelFileName(dtype)} ...`);
          started = performance.now();
        },
      },
    );
    if (!result) continue;
    progress.note(`  wrote ${result.modelPath} (${formatBytes(result.bytes)}) in ${formatDuration((performance.now() - started) / 1000)}`);
    converted.push(dtype);
  }
  return converted;
}

async function planFetch(
  ref: ModelRef,
  hubUrl: string,
  layoutOption: HubLayoutOption,
  revisionOption: string | undefined,
  policy: RetryPolicy,
): Promise<Plan> {
  const layout = layoutOption === 'auto' ? layoutFromHost(hubUrl) : layoutOption;
  if (layout !== 'huggingface') {
    const revision = revisionOption ?? defaultRevision('modelscope');
    let notFound: string | undefined;
    for (const hubId of ref.candidates) {
      const result = await listModelScopeFiles(hubUrl, hubId, revision, policy);
      if (result.kind === 'files') return { layout: 'modelscope', hubId, revision, listing: result.files, fellBack: false };
      if (result.kind === 'model-not-found') {
        notFound ??= result.message;
        continue;
      }
      if (layout === 'modelscope') {
        throw new CoromError(
          `${hubUrl} did not answer like ModelScope's API (HTTP ${result.status} from /api/v1/models/${hubId}/repo/files); ` +
            'for a Hugging Face style mirror use --hub-layout huggingface',
        );
      }
      notFound = undefined; // auto: not ModelScope, so try the Hugging Face layout below
      break;
    }
    if (notFound !== undefined) throw new HubNotFoundError(notFound);
  }
  return {
    layout: 'huggingface',
    hubId: ref.candidates[0]!,
    revision: revisionOption ?? defaultRevision('huggingface'),
    listing: undefined,
    fellBack: layout === undefined,
  };
}

interface WantedFile {
  path: string;
  required: boolean;
  remote: RemoteFile | undefined;
}

/** Chooses the files to download from a ModelScope listing. */
function selectFromListing(plan: Plan, listing: RemoteFile[]): WantedFile[] {
  const byPath = new Map(listing.map((f) => [f.path, f]));
  const wanted: WantedFile[] = [];
  for (const name of REQUIRED_FILES) {
    const remote = byPath.get(name);
    if (!remote) throw new CoromError(`${plan.hubId} has no ${name} on the hub; it is not a BERT checkpoint corom can convert`);
    wanted.push({ path: name, required: true, remote });
  }
  for (const name of OPTIONAL_FILES) {
    const remote = byPath.get(name);
    if (remote) wanted.push({ path: name, required: false, remote });
  }
  const weights = WEIGHT_FILES.find((name) => byPath.has(name));
  if (!weights) {
    const sharded = listing.some((f) => /\.index\.json$/.test(f.path));
    throw new CoromError(
      `${plan.hubId} has neither ${WEIGHT_FILES.join(' nor ')} on the hub${sharded ? ' (sharded checkpoints are not supported)' : ''}`,
    );
  }
  wanted.push({ path: weights, required: true, remote: byPath.get(weights) });
  return wanted;
}

async function fileSize(file: string): Promise<number | undefined> {
  return stat(file).then((s) => s.size, () => undefined);
}

/** A cached file the listing vouches for (same size, and same sha256 when listed) is not downloaded again. */
async function matchesListing(file: string, remote: RemoteFile): Promise<string | undefined> {
  const size = await fileSize(file);
  if (size === undefined || (remote.size !== undefined && size !== remote.size)) return undefined;
  if (remote.size === undefined && remote.sha256 === undefined) return undefined;
  const sha256 = await sha256File(file);
  return remote.sha256 === undefined || remote.sha256 === sha256 ? sha256 : undefined;
}

async function downloadCheckpoint(
  plan: Plan,
  hubUrl: string,
  sourceDir: string,
  policy: RetryPolicy,
  progress: TransferProgress,
  force: boolean,
  downloaded: string[],
  reused: string[],
): Promise<SourceManifest> {
  const files: SourceManifest['files'] = [];
  const fetchOne = async (name: string, remote: RemoteFile | undefined): Promise<void> => {
    const dest = path.join(sourceDir, name);
    if (force) await rm(`${dest}.part`, { force: true });
    else if (remote) {
      const sha256 = await matchesListing(dest, remote);
      if (sha256 !== undefined) {
        reused.push(name);
        files.push({ path: name, size: (await fileSize(dest))!, sha256 });
        return;
      }
    }
    const result = await downloadFile(
      {
        url: fileUrl(plan.layout, hubUrl, plan.hubId, plan.revision, name),
        dest,
        name,
        ...(remote?.size !== undefined ? { size: remote.size } : {}),
        ...(remote?.sha256 !== undefined ? { sha256: remote.sha256 } : {}),
      },
      { policy, hubUrl, progress },
    );
    downloaded.push(name);
    files.push({ path: name, size: result.bytes, sha256: result.sha256 });
  };

  let weights: string;
  if (plan.listing) {
    const wanted = selectFromListing(plan, plan.listing);
    for (const file of wanted) await fetchOne(file.path, file.remote);
    weights = wanted[wanted.length - 1]!.path;
  } else {
    // Hugging Face layout: no listing, so probe known names; 404 means absent.
    for (const name of REQUIRED_FILES) {
      try {
        await fetchOne(name, undefined);
      } catch (err) {
        if (!(err instanceof FileNotOnHubError)) throw err;
        if (name === 'config.json') {
          const also = plan.fellBack ? "; it does not answer ModelScope's API either" : '';
          throw new HubNotFoundError(`model ${plan.hubId} not found on ${hubUrl} (no ${name} at revision ${plan.revision}${also})`);
        }
        throw new CoromError(`${plan.hubId} has no ${name} on the hub; it is not a BERT checkpoint corom can convert`);
      }
    }
    for (const name of OPTIONAL_FILES) {
      try {
        await fetchOne(name, undefined);
      } catch (err) {
        if (!(err instanceof FileNotOnHubError)) throw err;
      }
    }
    let found: string | undefined;
    for (const name of WEIGHT_FILES) {
      try {
        await fetchOne(name, undefined);
        found = name;
        break;
      } catch (err) {
        if (!(err instanceof FileNotOnHubError)) throw err;
      }
    }
    if (!found) throw new CoromError(`${plan.hubId} has neither ${WEIGHT_FILES.join(' nor ')} on the hub`);
    weights = found;
  }

  // A weights file of the other kind left from an earlier fetch would be preferred by the reader.
  for (const other of WEIGHT_FILES) {
    if (other !== weights) await rm(path.join(sourceDir, other), { force: true });
  }
  return {
    format: 1,
    hubUrl,
    hubId: plan.hubId,
    layout: plan.layout,
    revision: plan.revision,
    weights,
    files,
    fetchedAt: new Date().toISOString(),
  };
}
