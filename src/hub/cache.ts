/**
 * What the local model cache holds. A source folder counts as complete only once its manifest
 * (written after every file was downloaded and verified) is there and agrees with the files; a
 * converted folder offers the dtypes its corom.json lists whose model files exist.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { DTYPES, type Dtype } from '../engine/types.js';
import { atomicWrite, readConvertedMetadata } from '../store/files.js';
import { modelFileName, type ConvertedMetadata } from '../store/metadata.js';
import type { HubLayout } from './hub-client.js';
import { looksLikeHubId, modelCachePaths, type ModelCachePaths } from './paths.js';

export const SOURCE_MANIFEST = '.corom-source.json';

export interface SourceManifest {
  format: 1;
  hubUrl: string;
  hubId: string;
  layout: HubLayout;
  revision: string;
  /** The weights file among `files`. */
  weights: string;
  files: Array<{ path: string; size: number; sha256: string }>;
  fetchedAt: string;
}

export async function readSourceManifest(sourceDir: string): Promise<SourceManifest | undefined> {
  try {
    const parsed = JSON.parse(await readFile(path.join(sourceDir, SOURCE_MANIFEST), 'utf8')) as SourceManifest;
    return parsed?.format === 1 && Array.isArray(parsed.files) && typeof parsed.weights === 'string' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

export async function writeSourceManifest(sourceDir: string, manifest: SourceManifest): Promise<void> {
  await atomicWrite(path.join(sourceDir, SOURCE_MANIFEST), JSON.stringify(manifest, null, 2) + '\n');
}

/** The manifest, if every file it lists is present with the listed size. */
export async function completeSource(sourceDir: string): Promise<SourceManifest | undefined> {
  const manifest = await readSourceManifest(sourceDir);
  if (!manifest) return undefined;
  for (const file of manifest.files) {
    const size = await stat(path.join(sourceDir, file.path)).then((s) => s.size, () => -1);
    if (size !== file.size) return undefined;
  }
  return manifest;
}

/**
 * Where a conversion's weights came from, for people (corom.json `source`); whether a conversion
 * is stale is decided by the weights stamp of src/store/stamp.ts, not by this label.
 */
export function sourceLabel(manifest: SourceManifest): string {
  return `${manifest.hubId}@${manifest.revision}/${manifest.weights}`;
}

/** Dtypes a converted folder can serve: listed in corom.json and present on disk. */
export async function convertedDtypes(onnxDir: string, meta?: ConvertedMetadata): Promise<Dtype[]> {
  let metadata = meta;
  if (!metadata) {
    try {
      metadata = await readConvertedMetadata(onnxDir);
    } catch {
      return []; // unreadable corom.json: treat as not converted, a fetch rewrites it
    }
  }
  if (!metadata) return [];
  const present: Dtype[] = [];
  for (const dtype of DTYPES) {
    if (!metadata.dtypes?.[dtype]) continue;
    const ok = await stat(path.join(onnxDir, modelFileName(dtype))).then((s) => s.isFile(), () => false);
    if (ok) present.push(dtype);
  }
  return present;
}

export interface CachedModel {
  hubId: string;
  paths: ModelCachePaths;
  /** Set when the downloaded checkpoint is complete. */
  source: SourceManifest | undefined;
  dtypes: Dtype[];
  metadata: ConvertedMetadata | undefined;
}

export async function inspectCachedModel(home: string, hubId: string): Promise<CachedModel> {
  const paths = modelCachePaths(home, hubId);
  let metadata: ConvertedMetadata | undefined;
  try {
    metadata = await readConvertedMetadata(paths.onnx);
  } catch {
    metadata = undefined;
  }
  return {
    hubId,
    paths,
    source: await completeSource(paths.source),
    dtypes: metadata ? await convertedDtypes(paths.onnx, metadata) : [],
    metadata,
  };
}

async function subdirectories(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort();
  } catch {
    return [];
  }
}

/** Every model folder under $COROM_HOME/models, complete or not. */
export async function listCachedModels(home: string): Promise<CachedModel[]> {
  const root = path.join(home, 'models');
  const found: CachedModel[] = [];
  for (const owner of await subdirectories(root)) {
    for (const name of await subdirectories(path.join(root, owner))) {
      const hubId = `${owner}/${name}`;
      if (looksLikeHubId(hubId)) found.push(await inspectCachedModel(home, hubId));
    }
  }
  return found;
}
