/**
 * The two hub URL layouts corom-edge downloads from:
 * - ModelScope: `GET {hub}/api/v1/models/{id}/repo/files?Revision=R&Recursive=true` lists files as
 *   `{Code, Data: {Files: [{Name, Path, Size, Sha256, Type: 'blob'|'tree', IsLFS, ...}]}, Message,
 *   RequestId, Success}`, and `GET {hub}/api/v1/models/{id}/repo?Revision=R&FilePath=P` serves a file
 *   (field names as in the modelscope SDK's hub/api.py, constants.py FILE_HASH = 'Sha256', and its
 *   tests). An unknown revision answers 200 with `Files: null`.
 * - Hugging Face (and mirrors such as hf-mirror.com): `GET {base}/{id}/resolve/{rev}/{file}`, with no
 *   listing in the same form, so known file names are tried and a 404 means "absent".
 */
import { CoromError } from '../errors.js';
import { HubNotFoundError } from './errors.js';
import { hubGet, readJson } from './http.js';
import type { RetryPolicy } from './retry.js';

export type HubLayout = 'modelscope' | 'huggingface';
export type HubLayoutOption = HubLayout | 'auto';
export const HUB_LAYOUTS: readonly HubLayoutOption[] = ['auto', 'modelscope', 'huggingface'];

export const DEFAULT_HUB_URL = 'https://www.modelscope.cn';

/** A file of the repository as the hub lists it. */
export interface RemoteFile {
  path: string;
  size?: number;
  sha256?: string;
}

export function defaultRevision(layout: HubLayout): string {
  return layout === 'modelscope' ? 'master' : 'main';
}

/** Validates and normalises a hub base URL (no trailing slash). */
export function normalizeHubUrl(raw: string, source: string): string {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new CoromError(`${source}: '${raw}' is not a URL (expected e.g. ${DEFAULT_HUB_URL})`, { exitCode: 2 });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CoromError(`${source}: '${raw}' must be an http:// or https:// URL`, { exitCode: 2 });
  }
  return url.toString().replace(/\/+$/, '');
}

/** Hosts known to use the Hugging Face layout, so no probe is needed. */
export function layoutFromHost(hubUrl: string): HubLayout | undefined {
  const host = new URL(hubUrl).hostname;
  if (/(^|\.)modelscope\.(cn|ai)$/.test(host)) return 'modelscope';
  if (/(^|\.)(huggingface\.co|hf-mirror\.com)$/.test(host)) return 'huggingface';
  return undefined;
}

export function modelScopeListUrl(hubUrl: string, hubId: string, revision: string): string {
  return `${hubUrl}/api/v1/models/${hubId}/repo/files?Revision=${encodeURIComponent(revision)}&Recursive=true`;
}

export function modelScopeFileUrl(hubUrl: string, hubId: string, revision: string, filePath: string): string {
  return `${hubUrl}/api/v1/models/${hubId}/repo?Revision=${encodeURIComponent(revision)}&FilePath=${encodeURIComponent(filePath)}`;
}

export function huggingFaceFileUrl(hubUrl: string, hubId: string, revision: string, filePath: string): string {
  const file = filePath.split('/').map(encodeURIComponent).join('/');
  return `${hubUrl}/${hubId}/resolve/${encodeURIComponent(revision)}/${file}`;
}

export function fileUrl(layout: HubLayout, hubUrl: string, hubId: string, revision: string, filePath: string): string {
  return layout === 'modelscope'
    ? modelScopeFileUrl(hubUrl, hubId, revision, filePath)
    : huggingFaceFileUrl(hubUrl, hubId, revision, filePath);
}

/** What the listing endpoint said. `not-modelscope` means the answer was not ModelScope's envelope. */
export type ListingResult =
  | { kind: 'files'; files: RemoteFile[] }
  | { kind: 'model-not-found'; message: string }
  | { kind: 'not-modelscope'; status: number };

interface ModelScopeEnvelope {
  Code?: unknown;
  Success?: unknown;
  Message?: unknown;
  Data?: { Files?: unknown } | null;
}

function isEnvelope(value: unknown): value is ModelScopeEnvelope {
  return typeof value === 'object' && value !== null && ('Code' in value || 'Success' in value);
}

function hubMessage(envelope: ModelScopeEnvelope): string {
  const message = typeof envelope.Message === 'string' ? envelope.Message.trim() : '';
  return message && message.length <= 200 ? ` (hub says: ${message})` : '';
}

function parseFiles(raw: unknown[], hubId: string): RemoteFile[] {
  const files: RemoteFile[] = [];
  for (const entry of raw) {
    if (typeof entry !== 'object' || entry === null) continue;
    const e = entry as { Path?: unknown; Name?: unknown; Size?: unknown; Sha256?: unknown; Type?: unknown };
    if (e.Type === 'tree') continue;
    const filePath = typeof e.Path === 'string' ? e.Path : typeof e.Name === 'string' ? e.Name : undefined;
    if (!filePath) continue;
    const file: RemoteFile = { path: filePath };
    if (typeof e.Size === 'number' && Number.isSafeInteger(e.Size) && e.Size >= 0) file.size = e.Size;
    if (typeof e.Sha256 === 'string' && /^[0-9a-fA-F]{64}$/.test(e.Sha256)) file.sha256 = e.Sha256.toLowerCase();
    files.push(file);
  }
  if (files.length === 0 && raw.length > 0) {
    throw new CoromError(`the hub's file list for ${hubId} has no usable entries (unexpected format)`);
  }
  return files;
}

/** Lists a repository through ModelScope's API. */
export async function listModelScopeFiles(
  hubUrl: string,
  hubId: string,
  revision: string,
  policy: RetryPolicy,
): Promise<ListingResult> {
  const response = await hubGet(modelScopeListUrl(hubUrl, hubId, revision), { policy, hubUrl });
  const body = await readJson(response);
  if (!isEnvelope(body)) return { kind: 'not-modelscope', status: response.status };
  if (response.status === 404) {
    return { kind: 'model-not-found', message: `model ${hubId} not found on ${hubUrl}${hubMessage(body)}` };
  }
  if (response.status === 401 || response.status === 403) {
    throw new CoromError(`model ${hubId} on ${hubUrl} needs authorisation (HTTP ${response.status}); corom fetch only downloads public models`);
  }
  if (response.status !== 200 || body.Success === false || (body.Code !== undefined && body.Code !== 200)) {
    throw new HubNotFoundError(`the hub could not list ${hubId} (HTTP ${response.status})${hubMessage(body)}`);
  }
  const raw = body.Data?.Files;
  if (raw === null || raw === undefined) {
    // ModelScope's answer for a revision the repository does not have.
    throw new HubNotFoundError(`revision '${revision}' of ${hubId} not found on ${hubUrl}`);
  }
  if (!Array.isArray(raw)) throw new CoromError(`the hub's file list for ${hubId} is not a list (unexpected format)`);
  return { kind: 'files', files: parseFiles(raw, hubId) };
}
