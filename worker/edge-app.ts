/**
 * The Worker's service: the same app as `corom serve` (createApp from src/http, every route,
 * auth, CORS, body limit, validation, request ids, errors, /metrics), composed with the edge parts:
 *
 *   - the R2 model as one served TokenModel whose batches go to the origins, else the isolate's
 *     WASM session, or the shard Workers with MODEL_SHARDS (worker/edge-model.ts, shard-chain.ts); Workers AI models as TextModels (worker/workers-ai.ts);
 *   - the edge cache as app middleware on POST /v1/embeddings (worker/embed-cache.ts);
 *   - hooks for what only the edge knows: /health (WASM memory), /ready (an R2 model over the
 *     memory budget, or whose shard Workers do not answer, needs an origin), /info (`edge`: memory, model, origins, cache).
 *
 * Every answer, whoever computed it, carries `x-corom-backend` (`origin:<url>`, `wasm`,
 * `wasm-shards:<N>`, `workers-ai`; a cache hit re-serves the stored one with `x-corom-cache: hit`) and is counted by
 * /metrics (`corom_answers_total{model,backend}`, `backend="cache"` for hits).
 *
 * workerd ties timers and I/O to the request that started them and cancels them when that request
 * ends or its client goes away. Two things are shared by requests: the model load, which every
 * request ending keeps alive with ctx.waitUntil (InFlight, edgeLifecycle) while the routes wait for
 * it (waitForModels); and the batches, which the batcher keeps alive itself with the waitUntil of
 * a request that is still waiting for them (src/core/batcher.ts, SubmitOptions.keepAlive from
 * src/http/service.ts submitOptions).
 */
import type { Context, MiddlewareHandler } from 'hono';

import type { AppEnv } from '../src/http/app-env.js';
import { createApp, type CoromApp } from '../src/http/app.js';
import type { ServedModel } from '../src/core/served-model.js';
import type { EdgeConfig } from './config.js';
import { embeddingsCache, type EmbedCache } from './embed-cache.js';
import { edgeModel, edgeRanker } from './edge-model.js';
import type { AiBinding } from './env.js';
import type { InIsolateBackend } from './isolate-model.js';
import { RERANK, type OriginPool } from './origins.js';
import { WORKERS_AI_BACKEND, workersAiModel } from './workers-ai.js';

export interface EdgeParts {
  config: EdgeConfig;
  /** The R2 model (whole in this isolate, or its shards in shard Workers), absent when MODEL_ID is "". */
  model?: InIsolateBackend;
  origins?: OriginPool;
  ai?: AiBinding;
  cache?: EmbedCache;
  /** onnxruntime-web's WebAssembly memory in bytes, once it exists. */
  wasmMemoryBytes(): number | undefined;
  log(line: string): void;
}

/** In-isolate batching: one thread, so batches only need to be big enough to amortize a run. */
export const ISOLATE_BATCHING = { maxBatchTokens: 4096, maxBatchSize: 64, maxQueue: 64, batchWaitMs: 0, concurrency: 1 };

/** The model load other requests wait on; each request ending keeps it alive while it is unsettled. */
class InFlight {
  private readonly pending = new Set<Promise<unknown>>();

  track<T>(promise: Promise<T>): Promise<T> {
    const settled = promise.then(
      () => undefined,
      () => undefined,
    );
    this.pending.add(settled);
    void settled.then(() => this.pending.delete(settled));
    return promise;
  }

  keepAlive(c: Context<AppEnv>): void {
    for (const promise of this.pending) waitUntil(c, promise);
  }
}

function waitUntil(c: Context<AppEnv>, promise: Promise<unknown>): void {
  c.executionCtx.waitUntil(promise.catch(() => {}));
}

/** The app the Worker serves, built once per isolate. */
export function createEdgeApp(parts: EdgeParts): CoromApp {
  const { config, model, origins, ai, cache, log } = parts;
  const inFlight = new InFlight();

  // Called by the app when it is created and again after a failure (R2 missing, say).
  const loadModels = (): Promise<readonly ServedModel[]> => {
    return inFlight.track(
      (async () => {
        const served: ServedModel[] = [];
        if (model) {
          const card = await model.describe();
          if (card.kind === 'rerank') served.push(edgeRanker(card, { isolate: model, ...(origins ? { origins } : {}), log }));
          else served.push(edgeModel(card, { isolate: model, ...(origins ? { origins } : {}), log }));
        }
        for (const spec of config.workersAi) served.push(workersAiModel(ai!, spec));
        return served;
      })(),
    );
  };

  /** Every request keeps the shared model load alive (the app makes it wait for the models: waitForModels). */
  const edgeLifecycle: MiddlewareHandler<AppEnv> = async (c, next) => {
    try {
      await next();
    } finally {
      inFlight.keepAlive(c);
    }
  };

  const middleware: MiddlewareHandler<AppEnv>[] = [edgeLifecycle];
  if (cache) {
    const dtypes = new Map<string, string>(config.workersAi.map((m) => [m.id, WORKERS_AI_BACKEND]));
    if (config.model) dtypes.set(config.model.id, config.model.dtype);
    middleware.push(
      embeddingsCache({
        cache,
        defaultModel: config.model?.id ?? config.workersAi[0]!.id,
        dtypeOf: (id) => dtypes.get(id),
        keepAlive: waitUntil,
        log,
      }),
    );
  }

  return createApp({
    models: loadModels,
    apiKeys: config.apiKeys,
    corsOrigins: config.corsOrigins,
    limits: { maxInputs: config.maxInputs, maxBodyBytes: config.maxBodyBytes, requestTimeoutMs: config.requestTimeoutMs, drainRefusedBodies: true },
    batching: ISOLATE_BATCHING,
    log,
    middleware,
    waitForModels: true,
    health: () => ({
      edge: {
        wasmMemoryBytes: parts.wasmMemoryBytes() ?? null,
        ...(model ? { model: { id: model.id, loaded: model.loaded, ...(model.card ? { peakBytes: model.card.peak.bytes, budgetBytes: config.memoryBudgetBytes } : {}) } } : {}),
      },
    }),
    // The R2 model needs a backend: the isolate (within budget; with MODEL_SHARDS, every shard
    // Worker bound and answering its GET /ready) or an origin that serves it now. With API keys,
    // /ready says only its status (src/http/routes/ops.ts), never this reason.
    readiness: async () => {
      if (!model) return undefined;
      const reason = model.card?.refusal ?? (await model.unavailable?.());
      if (reason === undefined) return undefined;
      if (origins && origins.size > 0 && (await origins.serves({ id: model.id, dimensions: model.card!.kind === 'rerank' ? RERANK : model.card!.info.dimensions }))) return undefined;
      return `${reason}${origins && origins.size > 0 ? '; and no origin serves it right now' : ''}`;
    },
    info: () => ({
      edge: {
        wasmMemoryBytes: parts.wasmMemoryBytes() ?? null,
        memoryBudgetBytes: config.memoryBudgetBytes,
        ...(model ? { model: model.status() } : {}),
        origins: origins?.status() ?? [],
        originTimeoutMs: config.origins.timeoutMs,
        workersAiModels: config.workersAi.map((m) => m.id),
        cache: cache ? { store: cache.kind, ttlSeconds: config.cacheTtlSeconds } : null,
      },
    }),
  });
}
