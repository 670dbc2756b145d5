/**
 * `corom serve` on Node: listen first (so /health answers and /ready says 503 while the model
 * loads), resolve and load the model, serve until `shutdown` aborts, then drain and exit.
 */
import { stat } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { DEFAULT_MODEL_NAME, findKnownModel } from '../../models/registry.js';
import type { Engine } from '../engine/engine.js';
import { loadEngine } from '../engine/load.js';
import { createApp, OPEN_PATHS } from '../http/app.js';
import { apiKeyVerifier } from '../http/middleware/auth.js';
import { servedEngine, type ServedModel } from '../core/served-model.js';
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
async function servedId(config: ServeConfig): Promise<string | undefined> {
  if (config.modelId) return config.modelId;
  const spec = config.model ?? DEFAULT_MODEL_NAME;
  if (await stat(spec).then((s) => s.isDirectory(), () => false)) return undefined;
  return findKnownModel(spec)?.name ?? spec;
}

async function loadServedEngine(config: ServeConfig, io: ServeIO, log: (line: string) => void): Promise<Engine> {
  const resolveOptions = { env: io.env, stderr: io.stderr as unknown as NodeJS.WritableStream, dtype: config.dtype };
  const folder = config.model
    ? await resolveModelFolder(config.model, resolveOptions, config.modelOrigin ?? '--model')
    : await resolveDefaultModel(resolveOptions);
  const id = await servedId(config);
  return loadEngine({
    model: folder,
    dtype: config.dtype,
    backend: config.backend,
    device: config.device,
    requireDevice: config.requireDevice,
    threads: config.threads,
    ...(config.maxLength ? { maxLength: config.maxLength } : {}),
    ...(id ? { id } : {}),
    log,
    // Inference off the event loop: /health, 429s and the drain keep answering while a batch runs.
    thread: true,
  });
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
  const loading = loadServedEngine(config, io, log);
  // If listening fails first, the load still settles; keep its rejection from going unhandled.
  loading.catch(() => {});
  const models: Promise<ServedModel[]> = loading.then((engine) => [servedEngine(engine)]);

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
    await loading.then((e) => e.close(), () => {});
    throw err;
  }

  let engine: Engine;
  try {
    const outcome = await Promise.race([loading, aborted(hooks.shutdown).then(() => undefined)]);
    if (!outcome) {
      await server.close(0);
      await loading.then((e) => e.close(), () => {});
      return 0;
    }
    engine = outcome;
  } catch (err) {
    await server.close(0);
    throw err;
  }

  const info = engine.info;
  log(
    `${server.url} ready: model '${info.id}' (${info.dtype}, ${info.backend}, ${info.dimensions} dims, max ${info.maxLength} tokens); ` +
      `auth ${config.apiKeys.length ? 'on' : 'off'}; batching ${config.batching ? `${config.maxBatchTokens} tokens x ${config.maxBatchSize} rows` : 'off'}`,
  );
  hooks.onReady?.(server);

  await aborted(hooks.shutdown);
  log(`shutting down: draining ${server.inFlight} in-flight request(s), up to ${config.drainTimeoutMs} ms`);
  const { drained, cutShort } = await server.close(config.drainTimeoutMs);
  if (!drained) log(`drain timeout reached: ${cutShort} request(s) cut short with 503 + Retry-After`);
  await engine.close();
  return 0;
}
