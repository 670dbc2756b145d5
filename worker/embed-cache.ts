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
