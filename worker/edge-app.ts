/**
 * The Worker's HTTP front: the same service as `corom serve` (createApp from src/http, every
 * route), with the edge's backend choice in front of the model routes.
 *
 *   POST /v1/embeddings, /v1/rerank, /v1/sentence-embedding for the R2 model:
 *     1. the edge cache (embeddings only, EMBED_CACHE_TTL > 0),
 *     2. the origins (ORIGINS; worker/origins.ts), same path and body,
 *     3. the in-isolate WASM backend, when no origin answered and the artifact fits MEMORY_BUDGET_MB.
 *   The same routes for a Workers AI model: the app, whose model calls the AI binding.
 *   Everything else (/v1/models, /tokenize, /docs, /metrics, ...): the app as is.
 *
 * `x-corom-backend` names who answered a model route (`origin:<url>`, `wasm`, `workers-ai`);
 * `x-corom-cache` says `hit` or `miss` when the cache is on. A request names one model and is
 * answered by that model only: origins are used only if they list the same id and dimensions.
 * /health and /info also report the isolate's WebAssembly memory, /info the origins' state.
 */
import type { Context } from 'hono';
import { Hono } from 'hono';
import { cors } from 'hono/cors';

import { CoromError } from '../src/errors.js';
import { ApiError } from '../src/http/api-error.js';
import type { AppEnv } from '../src/http/app-env.js';
import { createApp, OPEN_PATHS, type CoromApp } from '../src/http/app.js';
import { bearerAuth } from '../src/http/middleware/auth.js';
import type { ServedModel } from '../src/core/served-model.js';
import type { EdgeConfig } from './config.js';
import { embeddingsCacheKey, type EmbedCache } from './embed-cache.js';
import type { AiBinding, WaitUntil } from './env.js';
import type { IsolateModel, ModelCard } from './isolate-model.js';
import { MemoryBudgetError } from './memory-budget.js';
import type { OriginPool } from './origins.js';
import { workersAiModel } from './workers-ai.js';

export interface EdgeParts {
  config: EdgeConfig;
  /** The R2 model, absent when MODEL_ID is "". */
  model?: IsolateModel;
  origins?: OriginPool;
  ai?: AiBinding;
  cache?: EmbedCache;
  /** onnxruntime-web's WebAssembly memory in bytes, once it exists. */
  wasmMemoryBytes(): number | undefined;
  log(line: string): void;
}

/** Model routes: what the origins and the in-isolate backends compute. */
export const MODEL_ROUTES = ['/v1/embeddings', '/v1/rerank', '/v1/sentence-embedding'] as const;

export const BACKEND_HEADER = 'x-corom-backend';
export const CACHE_HEADER = 'x-corom-cache';
export const WASM_BACKEND = 'wasm';
export const WORKERS_AI_BACKEND = 'workers-ai';

/** In-isolate batching: one thread, so batches only need to be big enough to amortize a run. */
const ISOLATE_BATCHING = { maxBatchTokens: 4096, maxBatchSize: 64, maxQueue: 64, batchWaitMs: 0, concurrency: 1 };

interface InnerApp {
  app: CoromApp;
  /** Settles when the app's models are in service (or failed to load). */
  models: Promise<unknown>;
  failed: boolean;
}

type EdgeContext = Context<AppEnv>;

export class EdgeService {
  private inner: InnerApp | undefined;
  private readonly router: Hono<AppEnv>;
  private readonly answered = new Map<string, number>();
  private cacheHits = 0;
  private refusalLogged = false;
  private readonly defaultModelId: string;
  private readonly workersAiIds: Set<string>;

  constructor(private readonly parts: EdgeParts) {
    const { config } = parts;
    this.defaultModelId = config.model?.id ?? config.workersAi[0]!.id;
    this.workersAiIds = new Set(config.workersAi.map((m) => m.id));
    this.router = this.buildRouter();
  }

  fetch(request: Request, ctx: WaitUntil): Promise<Response> {
    return Promise.resolve(this.router.fetch(request, {}, { waitUntil: (p: Promise<unknown>) => ctx.waitUntil(p), passThroughOnException: () => {}, props: {} }));
  }

  private buildRouter(): Hono<AppEnv> {
    const { config } = this.parts;
    const router = new Hono<AppEnv>();
    if (config.corsOrigins.length > 0) {
      // The same policy the app would apply, here so that origin answers carry it too.
      router.use(
        cors({
          origin: config.corsOrigins.includes('*') ? '*' : [...config.corsOrigins],
          allowMethods: ['GET', 'POST', 'OPTIONS'],
          allowHeaders: ['Authorization', 'Content-Type', 'X-Request-Id'],
          exposeHeaders: ['X-Request-Id', 'Retry-After', 'X-Corom-Backend', 'X-Corom-Cache'],
          maxAge: 600,
        }),
      );
    }
    // Checked here as well as in the app: an origin must never answer a client without a key.
    router.use(bearerAuth(config.apiKeys, OPEN_PATHS));
    for (const path of MODEL_ROUTES) router.post(path, (c) => this.modelRoute(c, path));
    router.get('/health', (c) => this.health(c));
    router.get('/ready', (c) => this.ready(c));
    router.get('/info', (c) => this.info(c));
    router.all('*', async (c) => {
      const app = await this.app(c);
      return app.fetch(c.req.raw);
    });
    router.onError((error, c) => {
      if (error instanceof ApiError) return c.json(error.toJSON(), error.status, error.headers);
      this.parts.log(`unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      const internal = new ApiError(500, 'Internal server error in the edge Worker; this is a bug, please report it', { code: 'internal_error' });
      return c.json(internal.toJSON(), 500);
    });
    return router;
  }

  /** The app, created on first use and again after its models failed to load (R2 missing, say). */
  private async app(c: EdgeContext): Promise<CoromApp> {
    if (this.inner === undefined || this.inner.failed) {
      const models = this.servedModels();
      const inner: InnerApp = {
        app: createApp({
          models,
          apiKeys: this.parts.config.apiKeys,
          limits: { maxInputs: this.parts.config.maxInputs, maxBodyBytes: this.parts.config.maxBodyBytes, requestTimeoutMs: this.parts.config.requestTimeoutMs },
          batching: ISOLATE_BATCHING,
          log: this.parts.log,
        }),
        models: models.catch(() => {
          inner.failed = true;
        }),
        failed: false,
      };
      this.inner = inner;
    }
    // Every request that waits for the shared load keeps it alive: workerd cancels work a
    // finished request started, and the next request would wait on it forever.
    await keepAlive(c, this.inner.models);
    return this.inner.app;
  }

  private async servedModels(): Promise<ServedModel[]> {
    const { model, ai, config } = this.parts;
    const served: ServedModel[] = [];
    if (model) served.push(model.servedModel(await model.describe()));
    for (const spec of config.workersAi) served.push(workersAiModel(ai!, spec));
    return served;
  }

  private async modelRoute(c: EdgeContext, path: string): Promise<Response> {
    const request = c.req.raw;
    const bytes = await readBody(request, this.parts.config.maxBodyBytes);
    const app = await this.app(c);
    const toApp = (): Promise<Response> => Promise.resolve(app.fetch(new Request(request.url, { method: 'POST', headers: request.headers, body: bytes })));

    // Whatever is not a JSON object naming a served model is the app's to reject, in its words.
    const body = isJson(request.headers.get('content-type')) ? jsonObject(bytes) : undefined;
    const modelId = body === undefined ? undefined : body.model == null ? this.defaultModelId : typeof body.model === 'string' ? body.model : undefined;
    const isR2Model = modelId !== undefined && modelId === this.parts.model?.id;
    if (body === undefined || !(isR2Model || (modelId !== undefined && this.workersAiIds.has(modelId)))) return toApp();

    const cache = path === '/v1/embeddings' ? this.parts.cache : undefined;
    const cacheKey = cache
      ? await embeddingsCacheKey({
          model: modelId!,
          dtype: isR2Model ? this.parts.model!.config.dtype : WORKERS_AI_BACKEND,
          input: body.input,
          normalize: body.normalize,
          dimensions: body.dimensions,
          encodingFormat: body.encoding_format,
        })
      : undefined;
    if (cache && cacheKey) {
      const hit = await cache.get(cacheKey).catch((error: unknown) => {
        this.parts.log(`cache read failed: ${error instanceof Error ? error.message : String(error)}`);
        return undefined;
      });
      if (hit) {
        this.cacheHits++;
        return new Response(hit.body, {
          status: 200,
          headers: { 'content-type': 'application/json', [BACKEND_HEADER]: hit.backend, [CACHE_HEADER]: 'hit', 'x-request-id': crypto.randomUUID() },
        });
      }
    }

    let response: Response | undefined;
    let backend: string;
    if (isR2Model) {
      const model = this.parts.model!;
      const card = await this.describe(c, model);
      if (this.parts.origins && this.parts.origins.size > 0) {
        // An origin's default model may be another one: name the model when the client did not.
        const outgoing = body.model == null ? new TextEncoder().encode(JSON.stringify({ ...body, model: modelId })) : bytes;
        const outcome = await this.parts.origins.forward(path, outgoing, request.headers, { id: model.id, dimensions: card.info.dimensions });
        if (outcome.kind === 'answered') {
          response = outcome.response;
          backend = `origin:${outcome.origin}`;
        } else if (outcome.attempted > 0) {
          // Skips (open circuits, other models) were logged when they began; failures are news.
          this.parts.log(`no origin answered ${path} for '${model.id}', answering in the isolate: ${outcome.reasons.join('; ')}`);
        }
      }
      if (response === undefined) {
        await this.loadInIsolate(c, model, this.parts.origins?.size ?? 0);
        response = await toApp();
        backend = WASM_BACKEND;
      }
    } else {
      response = await toApp();
      backend = WORKERS_AI_BACKEND;
    }
    this.answered.set(backend!, (this.answered.get(backend!) ?? 0) + 1);

    const headers = new Headers(response.headers);
    headers.set(BACKEND_HEADER, backend!);
    if (!cache || !cacheKey) return new Response(response.body, { status: response.status, headers });
    headers.set(CACHE_HEADER, 'miss');
    if (response.status !== 200) return new Response(response.body, { status: response.status, headers });
    const text = await response.text();
    keepAlive(
      c,
      cache.put(cacheKey, { body: text, backend: backend! }).catch((error: unknown) => {
        this.parts.log(`cache write failed: ${error instanceof Error ? error.message : String(error)}`);
      }),
    );
    headers.delete('content-length');
    return new Response(text, { status: 200, headers });
  }

  private async describe(c: EdgeContext, model: IsolateModel): Promise<ModelCard> {
    try {
      return await keepAlive(c, model.describe());
    } catch (error) {
      if (error instanceof CoromError) {
        throw new ApiError(503, `Model '${model.id}' is unavailable: ${error.message}`, { code: 'model_unavailable', headers: { 'Retry-After': '30' } });
      }
      throw error;
    }
  }

  /** The in-isolate session, or a 503 that says why it cannot answer (the reason is logged too). */
  private async loadInIsolate(c: EdgeContext, model: IsolateModel, originCount: number): Promise<void> {
    try {
      await keepAlive(c, model.load());
    } catch (error) {
      if (!(error instanceof CoromError)) throw error;
      // Origin addresses stay in the log: they are often private hosts.
      const origins = originCount > 0 ? ` No origin answered either (${originCount} configured).` : '';
      // A refusal is the configuration, the same for every request: logged once per isolate.
      if (!(error instanceof MemoryBudgetError) || !this.refusalLogged) this.parts.log(`in-isolate backend unavailable for '${model.id}': ${error.message}`);
      if (error instanceof MemoryBudgetError) {
        this.refusalLogged = true;
        throw new ApiError(503, `Model '${model.id}' cannot run in this Worker: ${error.message}.${origins}`, {
          code: 'model_over_memory_budget',
          headers: { 'Retry-After': '30' },
        });
      }
      throw new ApiError(503, `Model '${model.id}' is unavailable: ${error.message}.${origins}`, { code: 'model_unavailable', headers: { 'Retry-After': '30' } });
    }
  }

  private async health(c: EdgeContext): Promise<Response> {
    // Liveness: answered without waiting for any model.
    const model = this.parts.model;
    return c.json({
      status: 'ok' as const,
      edge: {
        wasmMemoryBytes: this.parts.wasmMemoryBytes() ?? null,
        ...(model ? { model: { id: model.id, loaded: model.loaded, ...(model.card ? { peakBytes: model.card.peak.bytes, budgetBytes: this.parts.config.memoryBudgetBytes } : {}) } } : {}),
      },
    });
  }

  /** The app's readiness, and the R2 model must have a backend: the isolate (within budget) or an origin. */
  private async ready(c: EdgeContext): Promise<Response> {
    const app = await this.app(c);
    const response = await app.fetch(c.req.raw);
    const model = this.parts.model;
    const refusal = model?.card?.refusal;
    if (response.status !== 200 || !model || !refusal) return response;
    const origins = this.parts.origins;
    if (origins && origins.size > 0 && (await origins.serves({ id: model.id, dimensions: model.card!.info.dimensions }))) return response;
    throw new ApiError(503, `Not ready: ${refusal}${origins && origins.size > 0 ? '; and no origin serves it right now' : ''}`, {
      code: 'model_over_memory_budget',
      headers: { 'Retry-After': '30' },
    });
  }

  private async info(c: EdgeContext): Promise<Response> {
    const app = await this.app(c);
    const response = await app.fetch(c.req.raw);
    if (response.status !== 200) return response;
    const { config, model, origins, cache } = this.parts;
    const body = (await response.json()) as Record<string, unknown>;
    const headers = new Headers(response.headers);
    headers.delete('content-length');
    const edge = {
      wasmMemoryBytes: this.parts.wasmMemoryBytes() ?? null,
      memoryBudgetBytes: config.memoryBudgetBytes,
      ...(model ? { model: model.status() } : {}),
      origins: origins?.status() ?? [],
      originTimeoutMs: config.origins.timeoutMs,
      workersAiModels: config.workersAi.map((m) => m.id),
      cache: cache ? { store: cache.kind, ttlSeconds: config.cacheTtlSeconds, hits: this.cacheHits } : null,
      answeredBy: Object.fromEntries(this.answered),
    };
    return new Response(JSON.stringify({ ...body, edge }), { status: 200, headers });
  }
}

/** Registers `promise` with the request's waitUntil (so it outlives a cancelled request) and returns it. */
function keepAlive<T>(c: EdgeContext, promise: Promise<T>): Promise<T> {
  c.executionCtx.waitUntil(promise.catch(() => {}));
  return promise;
}

function isJson(contentType: string | null): boolean {
  return contentType !== null && /^application\/(?:[\w.+-]+\+)?json\b/i.test(contentType.trim());
}

function jsonObject(bytes: Uint8Array<ArrayBuffer>): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(new TextDecoder().decode(bytes)) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The body, refused with the app's own 413 beyond `max` bytes (without reading all of it). */
async function readBody(request: Request, max: number): Promise<Uint8Array<ArrayBuffer>> {
  const tooLarge = () =>
    new ApiError(413, `The request body exceeds ${max} bytes; send fewer or shorter inputs per request`, { code: 'request_too_large' });
  if (Number(request.headers.get('content-length') ?? 0) > max) throw tooLarge();
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}
