/**
 * Where fetched checkpoints and converted models live:
 *   $COROM_HOME/models/<owner>/<name>/source/   the hub's files, as downloaded
 *   $COROM_HOME/models/<owner>/<name>/onnx/     convertCheckpoint output (model.<dtype>.onnx, corom.json, ...)
 */
import { homedir } from 'node:os';
import path from 'node:path';
import { UsageError } from '../errors.js';

/** The cache root: COROM_HOME, else ~/.cache/corom. */
export function coromHome(env: NodeJS.ProcessEnv): string {
  const fromEnv = env.COROM_HOME?.trim();
  return path.resolve(fromEnv ? fromEnv : path.join(homedir(), '.cache', 'corom'));
}

const HUB_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*\/[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** True for strings shaped like a hub repository id ("owner/name"). */
export function looksLikeHubId(value: string): boolean {
  return HUB_ID.test(value) && !value.split('/').some((part) => part === '.' || part === '..');
}

/** Checks a hub id before it becomes part of a URL and a cache path. */
export function assertHubId(value: string): string {
  if (!looksLikeHubId(value)) {
    throw new UsageError(`'${value}' is not a model name or a hub id of the form owner/name`);
  }
  return value;
}

export interface ModelCachePaths {
  root: string;
  source: string;
  onnx: string;
}

export function modelCachePaths(home: string, hubId: string): ModelCachePaths {
  const [owner, name] = assertHubId(hubId).split('/') as [string, string];
  const root = path.join(home, 'models', owner, name);
  return { root, source: path.join(root, 'source'), onnx: path.join(root, 'onnx') };
}
