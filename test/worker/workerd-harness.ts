/**
 * Runs the Worker (wrangler.toml, worker/index.ts) in real workerd through wrangler's
 * programmatic API: wrangler bundles it with esbuild exactly as `wrangler deploy` would (the .wasm
 * import becomes a CompiledWasm module) and serves it on 127.0.0.1, with R2 simulated locally in
 * a temporary persistence folder that the test fills first. Extra bindings (a fake Workers AI
 * service) come from other Workers started here, found through a per-test dev registry folder.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { readIsolateHeap, type IsolateHeap } from './isolate-heap.js';

// Offline and quiet before wrangler/miniflare read their environment: no usage metrics, no
// download of the Request.cf object (workers.cloudflare.com is unreachable from tests).
process.env.WRANGLER_SEND_METRICS = 'false';
process.env.CLOUDFLARE_CF_FETCH_ENABLED = 'false';
process.env.WRANGLER_LOG ??= 'warn';
// A running Worker must not reload (and drop requests) because someone edits wrangler.toml.
process.env.WRANGLER_CI_DISABLE_CONFIG_WATCHING = 'true';
process.env.WRANGLER_LOG_PATH ??= join(tmpdir(), 'corom-wrangler-logs');

const { getPlatformProxy, unstable_startWorker } = await import('wrangler');

type Binding = NonNullable<Parameters<typeof unstable_startWorker>[0]['bindings']>[string];

export const WRANGLER_CONFIG = fileURLToPath(new URL('../../wrangler.toml', import.meta.url));
/** The shard Workers' configuration: environments shard1, shard2 (worker/shard-worker.ts). */
export const WRANGLER_SHARD_CONFIG = fileURLToPath(new URL('../../wrangler.shard.toml', import.meta.url));
/** A Workers AI stand-in: a WorkerEntrypoint with `run(model, {text})`, reached over a service binding. */
export const FAKE_AI_ENTRY = fileURLToPath(new URL('./fake-ai-worker.js', import.meta.url));

export interface HttpResult {
  status: number;
  headers: Headers;
  /** Parsed JSON, or the text when the answer is not JSON. */
  body: any;
  ms: number;
}

export interface WorkerdWorker {
  url: URL;
  /** POSTs JSON (or a raw string) to `path`. */
  postJson(path: string, body: unknown, headers?: Record<string, string>): Promise<HttpResult>;
  get(path: string, headers?: Record<string, string>): Promise<HttpResult>;
  /** The isolate's JS memory (V8 heap + ArrayBuffers), when started with `inspect`. */
  heap?: () => Promise<IsolateHeap>;
  dispose(): Promise<void>;
}

export interface StartOptions {
  /** Objects to put into the local MODELS bucket before the Worker starts. */
  objects?: Record<string, Uint8Array | string>;
  /** [vars] overrides, e.g. MODEL_PREFIX (secrets too: they are plain strings to the Worker). */
  vars: Record<string, string>;
  /** Other bindings, e.g. { AI: { type: 'service', service: 'fake-ai' } }. */
  bindings?: Record<string, Binding>;
  /** Dev registry folder shared with the Workers that `bindings` name. */
  registry?: string;
  /** Headers sent with every request (e.g. Authorization). */
  headers?: Record<string, string>;
  /** Client-side deadline per request (default 30 s). */
  requestTimeoutMs?: number;
  /** Another wrangler configuration (default wrangler.toml) and its environment, e.g. a shard Worker. */
  config?: string;
  env?: string;
  /** Open the V8 inspector (loopback, a free port), so `heap()` can read the isolate's JS memory. */
  inspect?: boolean;
}

async function exchange(url: URL, init: RequestInit, timeoutMs: number): Promise<HttpResult> {
  const started = performance.now();
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  const text = await response.text();
  let body: unknown = text;
  if ((response.headers.get('content-type') ?? '').includes('json')) body = JSON.parse(text);
  return { status: response.status, headers: response.headers, body, ms: performance.now() - started };
}

function client(url: URL, defaults: Record<string, string>, dispose: () => Promise<void>, timeoutMs = 30_000): WorkerdWorker {
  return {
    url,
    postJson: (path, body, headers = {}) =>
      exchange(
        new URL(path, url),
        {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...defaults, ...headers },
          body: typeof body === 'string' ? body : JSON.stringify(body),
        },
        timeoutMs,
      ),
    get: (path, headers = {}) => exchange(new URL(path, url), { headers: { ...defaults, ...headers } }, timeoutMs),
    dispose,
  };
}

/**
 * wrangler's dev bundler always runs esbuild in watch mode, so an edit to any file the Worker
 * imports (other people edit this tree) would rebuild it and restart workerd mid-test ("Your worker
 * restarted mid-request"). With a custom build step wrangler bundles once, without watching, and
 * only watches the custom step's paths: a no-op command watching an empty folder.
 */
async function bundleOnce(idle: string): Promise<{ custom: { command: string; watch: string } }> {
  await mkdir(idle, { recursive: true });
  return { custom: { command: `"${process.execPath}" -e 0`, watch: idle } };
}

const devOptions = (persist: string | false, registry: string | undefined, inspect = false) => ({
  remote: false as const,
  persist,
  server: { hostname: '127.0.0.1', port: 0 },
  inspector: inspect ? { hostname: '127.0.0.1', port: 0 } : (false as const),
  watch: false,
  // WORKERD_LOG_LEVEL=debug (with WRANGLER_LOG_PATH) records workerd's and the dev proxy's own
  // output, e.g. each request the proxy forwards and whether the runtime restarted.
  logLevel: (process.env.WORKERD_LOG_LEVEL ?? 'warn') as 'debug' | 'info' | 'log' | 'warn' | 'error' | 'none',
  ...(registry ? { registry } : {}),
});

/**
 * wrangler.toml as a Worker that serves the whole model in its isolate (MODEL_SHARDS = "", the
 * shard Workers' [[services]] removed, as docs/edge.md says to run it without shards), written into
 * `dir` with `main` made absolute. A Worker with service bindings makes wrangler follow the dev
 * registry and reconfigure workerd when it changes, which drops requests in flight of unrelated
 * tests; and workerd refuses to start with a binding that resolves nowhere.
 */
async function unshardedConfig(dir: string): Promise<string> {
  const text = await readFile(WRANGLER_CONFIG, 'utf8');
  const stripped = text
    .replace(/^\[\[services\]\]\nbinding = "SHARD_\d+"\nservice = "[^"]*"\n/gm, '')
    .replace(/^MODEL_SHARDS = ".*"$/m, 'MODEL_SHARDS = ""')
    .replace(/^main = "(.*)"$/m, (_, main: string) => `main = ${JSON.stringify(fileURLToPath(new URL(`../../${main}`, import.meta.url)))}`);
  if (/^\[\[services\]\]/m.test(stripped) || !/^MODEL_SHARDS = ""$/m.test(stripped)) throw new Error('wrangler.toml changed shape: update unshardedConfig');
  const path = join(dir, 'wrangler.toml');
  await writeFile(path, stripped);
  return path;
}

export async function startWorkerd(options: StartOptions): Promise<WorkerdWorker> {
  const persist = await mkdtemp(join(tmpdir(), 'corom-workerd-'));
  try {
    await seedBucket(persist, options.objects ?? {});
    // wrangler.toml serves the sharded int8 set; a test that wants it (MODEL_SHARDS) gives a registry.
    const config = options.config ?? (options.vars.MODEL_SHARDS ? WRANGLER_CONFIG : await unshardedConfig(persist));
    const vars = Object.fromEntries(Object.entries(options.vars).map(([name, value]) => [name, { type: 'plain_text' as const, value }]));
    const worker = await unstable_startWorker({
      config,
      ...(options.env ? { env: options.env } : {}),
      sendMetrics: false,
      build: await bundleOnce(join(persist, 'no-watch')),
      bindings: { ...vars, ...options.bindings },
      dev: devOptions(persist, options.registry, options.inspect),
    });
    await worker.ready;
    const url = await worker.url;
    const inspector = options.inspect ? await worker.inspectorUrl : undefined;
    if (options.inspect && !inspector) throw new Error('wrangler started the Worker without an inspector');
    const dispose = async () => {
      await worker.dispose();
      await rm(persist, { recursive: true, force: true });
    };
    const started = client(url, options.headers ?? {}, dispose, options.requestTimeoutMs);
    if (inspector) started.heap = () => readIsolateHeap(new URL('ws', inspector).href);
    return started;
  } catch (error) {
    await rm(persist, { recursive: true, force: true });
    throw error;
  }
}

/** The fake Workers AI Worker under `name`, registered in `registry`; GET / reports its calls. */
export async function startFakeAi(name: string, registry: string): Promise<WorkerdWorker> {
  const idle = await mkdtemp(join(tmpdir(), 'corom-fake-ai-'));
  try {
    const worker = await unstable_startWorker({
      name,
      entrypoint: FAKE_AI_ENTRY,
      compatibilityDate: '2026-04-01',
      sendMetrics: false,
      build: await bundleOnce(idle),
      dev: devOptions(false, registry),
    });
    await worker.ready;
    return client(await worker.url, {}, async () => {
      await worker.dispose();
      await rm(idle, { recursive: true, force: true });
    });
  } catch (error) {
    await rm(idle, { recursive: true, force: true });
    throw error;
  }
}

/** Writes the objects through wrangler's local R2 simulation into the same persistence folder. */
async function seedBucket(persist: string, objects: Record<string, Uint8Array | string>): Promise<void> {
  if (Object.keys(objects).length === 0) return;
  const proxy = await getPlatformProxy<{ MODELS: { put(key: string, value: ArrayBuffer | string): Promise<unknown> } }>({
    configPath: WRANGLER_CONFIG,
    // getPlatformProxy takes the Miniflare root itself; `dev.persist` above gets "v3" appended.
    persist: { path: join(persist, 'v3') },
  });
  try {
    // Whole ArrayBuffers: the proxy's serializer rejects views into a larger buffer (Node Buffers).
    for (const [key, value] of Object.entries(objects)) {
      await proxy.env.MODELS.put(key, typeof value === 'string' ? value : Uint8Array.from(value).buffer);
    }
  } finally {
    await proxy.dispose();
  }
}
