/**
 * Cloudflare Worker entry: the corom-edge HTTP service (src/http) in workerd, with the R2 model run
 * by onnxruntime-web in the isolate (or, with MODEL_SHARDS, by shard Workers: worker/shard-worker.ts), GPU-backed `corom serve` origins in front of it, Workers AI
 * embedding models, and an optional edge cache. worker/edge-app.ts composes the app; this file
 * assembles the parts once per isolate from the bindings (docs/edge.md lists them) and hands every
 * request to that app.
 */
import { CoromError } from '../src/errors.js';
import { ApiError } from '../src/http/api-error.js';
import { parseConfig, type EdgeConfig } from './config.js';
import { CacheApiEmbedCache, defaultCache, KvEmbedCache, type EmbedCache } from './embed-cache.js';
import { createEdgeApp } from './edge-app.js';
import type { CoromApp } from '../src/http/app.js';
import type { WaitUntil, WorkerEnv } from './env.js';
import { IsolateModel, wasmMemoryBytes, type InIsolateBackend } from './isolate-model.js';
import { ShardChainModel } from './shard-chain.js';
import { OriginPool } from './origins.js';

const log = (line: string): void => console.error(`corom worker: ${line}`);

let app: CoromApp | undefined;

export default {
  async fetch(request: Request, env: WorkerEnv, ctx: WaitUntil): Promise<Response> {
    try {
      app ??= buildApp(env);
    } catch (error) {
      if (!(error instanceof CoromError)) throw error;
      // A configuration mistake: every request says which var to fix (and the next request re-reads it).
      log(`configuration error: ${error.message}`);
      const apiError = new ApiError(500, `The Worker is misconfigured: ${error.message}`, { code: 'worker_misconfigured' });
      return Response.json(apiError.toJSON(), { status: 500 });
    }
    return app.fetch(request, env, { waitUntil: (promise: Promise<unknown>) => ctx.waitUntil(promise), passThroughOnException: () => {}, props: {} });
  },
};

/** The R2 model: whole in this isolate, or (MODEL_SHARDS) its layer shards in the shard Workers. */
function r2Model(env: WorkerEnv, config: EdgeConfig): InIsolateBackend {
  const model = config.model!;
  if (model.shards) return new ShardChainModel(env.MODELS!, { ...model, shards: model.shards }, config.memoryBudgetBytes, env);
  return new IsolateModel(env.MODELS!, model, config.memoryBudgetBytes);
}

function buildApp(env: WorkerEnv): CoromApp {
  const config = parseConfig(env);
  let cache: EmbedCache | undefined;
  if (config.cacheTtlSeconds > 0) {
    const cacheApi = defaultCache();
    if (env.EMBED_CACHE) cache = new KvEmbedCache(env.EMBED_CACHE, config.cacheTtlSeconds);
    else if (cacheApi) cache = new CacheApiEmbedCache(cacheApi, config.cacheTtlSeconds);
    else log('EMBED_CACHE_TTL is set but there is neither an EMBED_CACHE KV binding nor caches.default; caching is off');
  }
  return createEdgeApp({
    config,
    ...(config.model ? { model: r2Model(env, config) } : {}),
    ...(config.origins.urls.length > 0 ? { origins: new OriginPool(config.origins, Date.now, log) } : {}),
    ...(env.AI ? { ai: env.AI } : {}),
    ...(cache ? { cache } : {}),
    wasmMemoryBytes,
    log,
  });
}
