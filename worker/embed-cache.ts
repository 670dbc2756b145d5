/**
 * Optional edge cache of /v1/embeddings answers (EMBED_CACHE_TTL > 0). The key is the SHA-256 of
 * everything that decides the vectors and their encoding: model id, the artifact dtype, the input
 * texts (or token ids), `normalize`, `dimensions` and `encoding_format`. Only 200 answers are
 * stored, so a key is always a request the service accepted.
 *
 * Storage: the KV namespace bound as EMBED_CACHE when there is one (global, eventually
 * consistent, TTL at least 60 s), else the Cache API's caches.default (per data center; on a
 * workers.dev subdomain Cloudflare does not store anything there, so use KV or a custom domain).
 */
import type { KVNamespace } from '@cloudflare/workers-types';
import type { Context, MiddlewareHandler } from 'hono';

import type { AppEnv } from '../src/http/app-env.js';
import { BACKEND_HEADER } from '../src/http/service.js';

export interface CachedAnswer {
  /** The response body as the backend sent it. */
  body: string;
  /** The x-corom-backend of the answer that was stored. */
  backend: string;
}

export interface EmbedCache {
  readonly kind: 'kv' | 'cache-api';
  get(key: string): Promise<CachedAnswer | undefined>;
  put(key: string, answer: CachedAnswer): Promise<void>;
}

export interface EmbeddingsKeyParts {
  model: string;
  dtype: string;
  input: unknown;
  normalize: unknown;
  dimensions: unknown;
  encodingFormat: unknown;
}

/** Hex SHA-256 of the canonical request; defaults are filled so equivalent requests share a key. */
export async function embeddingsCacheKey(parts: EmbeddingsKeyParts): Promise<string> {
  const canonical = JSON.stringify([
    'corom-embeddings-v1',
    parts.model,
    parts.dtype,
    parts.normalize !== false,
    parts.dimensions ?? null,
    parts.encodingFormat ?? 'float',
    parts.input,
  ]);
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(canonical));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** KV refuses expirations shorter than 60 s. */
export const KV_MIN_TTL_SECONDS = 60;

export class KvEmbedCache implements EmbedCache {
  readonly kind = 'kv' as const;

  constructor(
    private readonly kv: KVNamespace,
    private readonly ttlSeconds: number,
  ) {}

  async get(key: string): Promise<CachedAnswer | undefined> {
    const { value, metadata } = await this.kv.getWithMetadata<{ backend?: string }>(key, 'text');
    return value === null ? undefined : { body: value, backend: metadata?.backend ?? 'unknown' };
  }

  async put(key: string, answer: CachedAnswer): Promise<void> {
    await this.kv.put(key, answer.body, {
      expirationTtl: Math.max(KV_MIN_TTL_SECONDS, this.ttlSeconds),
      metadata: { backend: answer.backend },
    });
  }
}

/** Synthetic URLs: the Cache API keys on GET requests; .invalid never resolves anywhere. */
const CACHE_URL = 'https://embeddings-cache.corom.invalid/';

export class CacheApiEmbedCache implements EmbedCache {
  readonly kind = 'cache-api' as const;

  constructor(
    private readonly cache: Cache,
    private readonly ttlSeconds: number,
  ) {}

  async get(key: string): Promise<CachedAnswer | undefined> {
    const hit = await this.cache.match(new Request(CACHE_URL + key));
    if (!hit) return undefined;
    return { body: await hit.text(), backend: hit.headers.get('x-corom-backend') ?? 'unknown' };
  }

  async put(key: string, answer: CachedAnswer): Promise<void> {
    await this.cache.put(
      new Request(CACHE_URL + key),
      new Response(answer.body, {
        headers: { 'content-type': 'application/json', 'cache-control': `max-age=${this.ttlSeconds}`, 'x-corom-backend': answer.backend },
      }),
    );
  }
}

/** The Workers Cache API's default cache (a workerd global the DOM types do not describe). */
export function defaultCache(): Cache | undefined {
  return (globalThis as unknown as { caches?: { default?: Cache } }).caches?.default;
}

export const CACHE_HEADER = 'x-corom-cache';
/** The backend label /metrics counts a cache hit under (corom_answers_total{backend="cache"}). */
export const CACHE_BACKEND = 'cache';

export interface CacheMiddlewareOptions {
  cache: EmbedCache;
  /** The default model's id (what a request without `model` gets). */
  defaultModel: string;
  /** The dtype part of the key for a served model id; undefined = not cached (unknown to this Worker). */
  dtypeOf(model: string): string | undefined;
  /** Keeps the store alive after the response (ctx.waitUntil). */
  keepAlive(c: Context<AppEnv>, promise: Promise<unknown>): void;
  log(line: string): void;
}

/**
 * The cache as app middleware on POST /v1/embeddings, after the app's auth and body limit: a hit
 * is answered here (with the stored body, the x-corom-backend it had, `x-corom-cache: hit`, and the
 * app's x-request-id and metrics); a miss goes on to the route and its 200 answer is stored. A
 * body that is not a JSON object naming a served model is left to the route to refuse.
 */
export function embeddingsCache(options: CacheMiddlewareOptions): MiddlewareHandler<AppEnv> {
  const { cache, log } = options;
  return async (c, next) => {
    if (c.req.method !== 'POST' || c.req.path !== '/v1/embeddings') return next();
    const body = await c.req.json<unknown>().catch(() => undefined);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return next();
    const request = body as Record<string, unknown>;
    const model = request.model == null ? options.defaultModel : request.model;
    const dtype = typeof model === 'string' ? options.dtypeOf(model) : undefined;
    if (typeof model !== 'string' || dtype === undefined) return next();
    const key = await embeddingsCacheKey({
      model,
      dtype,
      input: request.input,
      normalize: request.normalize,
      dimensions: request.dimensions,
      encodingFormat: request.encoding_format,
    });
    const hit = await cache.get(key).catch((error: unknown) => {
      log(`cache read failed: ${error instanceof Error ? error.message : String(error)}`);
      return undefined;
    });
    if (hit) {
      c.set('answered', { model, backends: [CACHE_BACKEND] });
      return c.body(hit.body, 200, { 'content-type': 'application/json', [BACKEND_HEADER]: hit.backend, [CACHE_HEADER]: 'hit' });
    }
    await next();
    c.res.headers.set(CACHE_HEADER, 'miss');
    if (c.res.status !== 200) return;
    const text = await c.res.clone().text();
    const backend = c.res.headers.get(BACKEND_HEADER) ?? 'unknown';
    options.keepAlive(
      c,
      cache.put(key, { body: text, backend }).catch((error: unknown) => {
        log(`cache write failed: ${error instanceof Error ? error.message : String(error)}`);
      }),
    );
  };
}
