/**
 * `corom serve` on Node: listen first (so /health answers and /ready says 503 while the models
 * load), resolve and load every --model by its kind (an embedding model or a rerank model), serve
 * until `shutdown` aborts, then drain and exit.
 */
import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { DEFAULT_MODEL_NAME, findKnownModel } from '../../models/registry.js';
import type { Engine } from '../engine/engine.js';
import { loadModel } from '../engine/load.js';
import { Ranker } from '../engine/ranker.js';
import { UsageError } from '../errors.js';
import { createApp, OPEN_PATHS } from '../http/app.js';
import { apiKeyVerifier } from '../http/middleware/auth.js';
import { servedEngine, servedRanker, type ServedModel } from '../core/served-model.js';
import { resolveDefaultModel, resolveModelFolder } from '../hub/resolve.js';
import { DeviceUnavailableError, probeExecutionProvider } from '../runtime/ort-node-providers.js';
import { listen, type RunningServer } from './http-server.js';
import type { ServeConfig } from './serve-config.js';

export interface ServeIO {
  stderr: Writable;
  env: NodeJS.ProcessEnv;
}

export interface ServeHooks {
  /** Aborting it starts the graceful shutdown. */
  shutdown: AbortSignal;
  /** Called once the model is loaded and the server answers (in-process embedders, tests). */
  onReady?: (server: RunningServer) => void;
}

/**
 * The id clients send as `model`: --model-id, else the registry name for a known model (corom-base,
 * also when given by hub id), else a hub id as given, else (a folder) the folder name.
 */
async function servedId(spec: string, id: string | undefined, folder: string): Promise<string> {
  if (id) return id;
  if (await stat(spec).then((s) => s.isDirectory(), () => false)) return basename(resolve(folder));
  return findKnownModel(spec)?.name ?? spec;
}

/** A loaded model, served by its kind: an Engine embeds, a Ranker ranks pairs (cross-encoder). */
type Loaded = Engine | Ranker;

/** The models to serve, from --model (repeatable) or the default model, loaded one after another. */
async function loadServedModels(config: ServeConfig, io: ServeIO, log: (line: string) => void): Promise<Loaded[]> {
  const resolveOptions = { env: io.env, stderr: io.stderr as unknown as NodeJS.WritableStream, dtype: config.dtype };
  const specs = config.models.length ? config.models : [{ spec: DEFAULT_MODEL_NAME, origin: '--model' as const, ...(config.modelId ? { id: config.modelId } : {}), isDefault: true }];
  const planned: Array<{ folder: string; id: string }> = [];
  for (const m of specs) {
    const folder = 'isDefault' in m ? await resolveDefaultModel(resolveOptions) : await resolveModelFolder(m.spec, resolveOptions, m.origin);
    planned.push({ folder, id: await servedId(m.spec, m.id, folder) });
  }
  const ids = planned.map((p) => p.id);
  const repeated = ids.find((id, i) => ids.indexOf(id) !== i);
  if (repeated !== undefined) throw new UsageError(`two models would be served as '${repeated}': give each its own id with --model-id (one per --model, in order)`);
  const loaded: Loaded[] = [];
  try {
    for (const { folder, id } of planned) {
      loaded.push(
        await loadModel({
          model: folder,
          dtype: config.dtype,
          backend: config.backend,
          device: config.device,
          requireDevice: config.requireDevice,
          threads: config.threads,
          ...(config.maxLength ? { maxLength: config.maxLength } : {}),
          id,
          log,
          // Inference off the event loop: /health, 429s and the drain keep answering while a batch runs.
          thread: true,
        }),
      );
    }
  } catch (err) {
    await closeAll(loaded);
    throw err;
  }
  return loaded;
}

function served(model: Loaded): ServedModel {
  return model instanceof Ranker ? servedRanker(model) : servedEngine(model);
}

/** "embedding model 'id' (fp32, backend, 768 dims, max 128 tokens)" or "rerank model 'id' (..., 768 hidden, ...)". */
function describe(model: Loaded): string {
  const info = model.info;
  const size = model instanceof Ranker ? `${model.info.hidden} hidden` : `${(info as Engine['info']).dimensions} dims`;
  return `${model instanceof Ranker ? 'rerank' : 'embedding'} model '${info.id}' (${info.dtype}, ${info.backend}, ${size}, max ${info.maxLength} tokens)`;
}

async function closeAll(models: readonly Loaded[]): Promise<void> {
  await Promise.all(models.map((m) => m.close().catch(() => {})));
}

function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

/** Runs the server until `hooks.shutdown` aborts; returns the exit code. */
export async function runServer(config: ServeConfig, io: ServeIO, hooks: ServeHooks): Promise<number> {
  const log = (line: string): void => void io.stderr.write(`corom serve: ${line}\n`);
  // Strict mode fails before listening, fetching or converting anything: one line, exit 69.
  // (The model's own session is created with requireDevice too, for what a one-node probe misses.)
  if (config.device === 'cuda' && config.requireDevice) {
    const probe = await probeExecutionProvider('cuda');
    if (!probe.loads) throw new DeviceUnavailableError(probe.reason);
  }
  const loading = loadServedModels(config, io, log);
  // If listening fails first, the load still settles; keep its rejection from going unhandled.
  loading.catch(() => {});
  const models: Promise<ServedModel[]> = loading.then((loaded) => loaded.map(served));

  const app = createApp({
    models,
    apiKeys: config.apiKeys,
    corsOrigins: config.corsOrigins,
    limits: { maxBodyBytes: config.maxBodyBytes, requestTimeoutMs: config.requestTimeoutMs },
    batching: {
      enabled: config.batching,
      maxBatchTokens: config.maxBatchTokens,
      maxBatchSize: config.maxBatchSize,
      maxQueue: config.maxQueue,
      batchWaitMs: config.batchWaitMs,
    },
    log,
  });
  let server: RunningServer;
  try {
    const keyAccepted = apiKeyVerifier(config.apiKeys);
    server = await listen(app, {
      host: config.host,
      port: config.port,
      maxBodyBytes: config.maxBodyBytes,
      // `100 Continue` only for a request the app will read: a valid key (or an open path) and a
      // declared size within the limit. Anything else is answered from its headers alone.
      admitContinue: async (req) => {
        const length = Number(req.headers['content-length'] ?? 0);
        if (length > config.maxBodyBytes) return false;
        const path = (req.url ?? '/').split('?')[0];
        return OPEN_PATHS.has(path) || keyAccepted(req.headers.authorization);
      },
    });
  } catch (err) {
    await loading.then(closeAll, () => {});
    throw err;
  }

  let loaded: Loaded[];
  try {
    const outcome = await Promise.race([loading, aborted(hooks.shutdown).then(() => undefined)]);
    if (!outcome) {
      await server.close(0);
      await loading.then(closeAll, () => {});
      return 0;
    }
    loaded = outcome;
  } catch (err) {
    await server.close(0);
    throw err;
  }

  log(
    `${server.url} ready: ${loaded.length === 1 ? '' : `${loaded.length} models: `}${loaded.map(describe).join(', ')}; ` +
      `auth ${config.apiKeys.length ? 'on' : 'off'}; batching ${config.batching ? `${config.maxBatchTokens} tokens x ${config.maxBatchSize} rows` : 'off'}`,
  );
  hooks.onReady?.(server);

  await aborted(hooks.shutdown);
  log(`shutting down: draining ${server.inFlight} in-flight request(s), up to ${config.drainTimeoutMs} ms`);
  const { drained, cutShort } = await server.close(config.drainTimeoutMs);
  if (!drained) log(`drain timeout reached: ${cutShort} request(s) cut short with 503 + Retry-After`);
  await closeAll(loaded);
  return 0;
}
