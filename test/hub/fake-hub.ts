/**
 * A model hub on 127.0.0.1 for tests, serving files in ModelScope's URL layout (and optionally the
 * Hugging Face `{id}/resolve/{rev}/{file}` layout), with switchable failures: a connection dropped
 * after N bytes, wrong bytes, Range ignored, 5xx answers.
 *
 * Response shapes follow ModelScope's API as the modelscope SDK reads it (hub/api.py get_model_files,
 * constants FILE_HASH = 'Sha256', and the SDK's own test fixture of a listing):
 *   {Code: 200, Data: {Files: [{CommitMessage, CommittedDate, CommitterName, InCheck, IsLFS, Mode,
 *    Name, Path, Revision, Sha256, Size, Type}]}, Message: 'success', RequestId, Success: true}
 * An unknown revision answers 200 with Data.Files = null; an unknown model answers 404 with the
 * {Code, Message, RequestId, Success: false} envelope (the Code value here is illustrative).
 */
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';

export const FIXTURE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/tiny-bert');

export interface HubFile {
  path: string;
  bytes: Buffer;
}

export interface FileBehaviour {
  /** For the first `times` requests of the file, send `bytes` body bytes and then destroy the socket. */
  dropAfter?: { bytes: number; times: number };
  /** Serve bytes that differ from the listed sha256 (same length). */
  corrupt?: boolean;
  /** Answer Range requests with 200 and the whole file, as some servers do. */
  ignoreRange?: boolean;
  /** For the first `times` requests of the file, answer `status` (e.g. 503), with `retryAfter` as Retry-After. */
  failStatus?: { status: number; times: number; retryAfter?: string };
  /** Leave Sha256 empty in the listing (as ModelScope does for some non-LFS files). */
  unlistedSha?: boolean;
}

export interface FakeHubOptions {
  /** hub id -> files. */
  models: Record<string, HubFile[]>;
  layouts?: { modelscope?: boolean; huggingface?: boolean };
  /** Revision the models exist at (ModelScope default master; HF default main is also accepted). */
  revision?: string;
  /** Keyed by file path. */
  behaviours?: Record<string, FileBehaviour>;
}

export interface RecordedRequest {
  method: string;
  url: string;
  range: string | undefined;
}

export interface FakeHub {
  url: string;
  requests: RecordedRequest[];
  /** Requests for one file (by its path in the repo). */
  fileRequests(file: string): RecordedRequest[];
  close(): Promise<void>;
}

/** The tiny-bert fixture as a ModelScope repository (plus the usual README and .gitattributes). */
export function fixtureRepo(): HubFile[] {
  const names = ['config.json', 'configuration.json', 'vocab.txt', 'pytorch_model.bin'];
  return [
    ...names.map((name) => ({ path: name, bytes: readFileSync(path.join(FIXTURE_DIR, name)) })),
    { path: 'README.md', bytes: Buffer.from('# tiny-bert\n') },
    { path: '.gitattributes', bytes: Buffer.from('*.bin filter=lfs diff=lfs merge=lfs -text\n') },
    { path: 'resources/dual-encoder.png', bytes: Buffer.from('not really a png') },
  ];
}

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function listing(files: HubFile[], revision: string, behaviours: Record<string, FileBehaviour>): unknown {
  const entries: unknown[] = [];
  const dirs = new Set<string>();
  for (const f of files) {
    const dir = f.path.includes('/') ? f.path.slice(0, f.path.indexOf('/')) : undefined;
    if (dir && !dirs.has(dir)) {
      dirs.add(dir);
      entries.push({ IsLFS: false, Mode: '16384', Name: dir, Path: dir, Sha256: '', Size: 0, Type: 'tree' });
    }
    entries.push({
      CommitMessage: 'upload',
      CommittedDate: 1667548386,
      CommitterName: 'test',
      InCheck: false,
      IsLFS: f.path.endsWith('.bin'),
      Mode: '33188',
      Name: path.posix.basename(f.path),
      Path: f.path,
      Revision: 'e45fcc158894f18a7a8cfa3caf8b3dd1a2b26dc9',
      Sha256: behaviours[f.path]?.unlistedSha ? '' : sha256(f.bytes),
      Size: f.bytes.length,
      Type: 'blob',
    });
  }
  void revision;
  return { Code: 200, Data: { Files: entries }, Message: 'success', RequestId: randomUUID(), Success: true };
}

export async function startFakeHub(options: FakeHubOptions): Promise<FakeHub> {
  const revision = options.revision ?? 'master';
  const layouts = { modelscope: true, huggingface: false, ...options.layouts };
  const behaviours = options.behaviours ?? {};
  const requests: RecordedRequest[] = [];
  const served = new Map<string, number>(); // file path -> requests so far

  const serveFile = (req: IncomingMessage, res: ServerResponse, file: HubFile): void => {
    const count = (served.get(file.path) ?? 0) + 1;
    served.set(file.path, count);
    const behaviour = behaviours[file.path] ?? {};
    if (behaviour.failStatus && count <= behaviour.failStatus.times) {
      const { status, retryAfter } = behaviour.failStatus;
      json(res, status, { Code: status, Message: 'busy', Success: false }, retryAfter !== undefined ? { 'retry-after': retryAfter } : {});
      return;
    }
    let body = file.bytes;
    if (behaviour.corrupt) {
      body = Buffer.from(body);
      body[Math.floor(body.length / 2)] = body[Math.floor(body.length / 2)]! ^ 0xff;
    }
    let status = 200;
    const headers: Record<string, string | number> = { 'content-type': 'application/octet-stream', 'accept-ranges': 'bytes' };
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (range && !behaviour.ignoreRange) {
      const start = Number(range[1]);
      if (start >= body.length) {
        res.writeHead(416, { 'content-range': `bytes */${body.length}` });
        res.end();
        return;
      }
      headers['content-range'] = `bytes ${start}-${body.length - 1}/${body.length}`;
      body = body.subarray(start);
      status = 206;
    }
    headers['content-length'] = body.length;
    res.writeHead(status, headers);
    if (behaviour.dropAfter && count <= behaviour.dropAfter.times) {
      res.write(body.subarray(0, behaviour.dropAfter.bytes), () => {
        res.socket?.destroy();
      });
      return;
    }
    res.end(body);
  };

  const server = createServer((req, res) => {
    requests.push({ method: req.method ?? 'GET', url: req.url ?? '', range: req.headers.range });
    const url = new URL(req.url ?? '/', 'http://hub');
    const api = /^\/api\/v1\/models\/([^/]+\/[^/]+)\/repo(\/files)?$/.exec(url.pathname);
    if (layouts.modelscope && api) {
      const [, hubId, isListing] = api;
      const files = options.models[hubId!];
      if (!files) {
        json(res, 404, { Code: 10010205001, Message: 'model not found', RequestId: randomUUID(), Success: false });
        return;
      }
      const rev = url.searchParams.get('Revision') ?? revision;
      if (isListing) {
        if (rev !== revision) {
          json(res, 200, { Code: 200, Data: { Files: null }, Message: 'success', RequestId: randomUUID(), Success: true });
          return;
        }
        json(res, 200, listing(files, rev, behaviours));
        return;
      }
      const file = rev === revision ? files.find((f) => f.path === url.searchParams.get('FilePath')) : undefined;
      if (!file) {
        json(res, 404, { Code: 10990101007, Message: 'file not found', RequestId: randomUUID(), Success: false });
        return;
      }
      serveFile(req, res, file);
      return;
    }
    const hf = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    if (layouts.huggingface && hf) {
      const [, hubId, rev, filePath] = hf;
      const files = options.models[hubId!];
      const file = files && (rev === revision || rev === 'main') ? files.find((f) => f.path === decodeURIComponent(filePath!)) : undefined;
      if (!file) {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('Entry not found');
        return;
      }
      serveFile(req, res, file);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/html' });
    res.end('<html><body>Not Found</body></html>');
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    fileRequests: (file) =>
      requests.filter((r) => {
        const u = new URL(r.url, 'http://hub');
        return u.searchParams.get('FilePath') === file || u.pathname.endsWith(`/${file}`);
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A 127.0.0.1 port with nothing listening (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A Writable that keeps what is written to it, for in-process CLI runs. */
export function memoryStream(): Writable & { text(): string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
      callback();
    },
  });
  return Object.assign(stream, { text: () => Buffer.concat(chunks).toString('utf8') });
}
