/**
 * The Worker's bindings, vars and secrets (wrangler.toml, `wrangler secret put`). Types come from
 * @cloudflare/workers-types by explicit import, so they do not clash with the DOM lib the rest of
 * the project compiles against. Every var is a string (or absent); worker/config.ts parses them.
 */
import type { Fetcher, KVNamespace, R2Bucket } from '@cloudflare/workers-types';

/** What the Workers AI binding offers this Worker: `env.AI.run(model, {text})`. */
export interface AiBinding {
  run(model: string, inputs: { text: string[] }): Promise<unknown>;
}

export interface WorkerEnv {
  /** R2 bucket holding converted model folders (what `corom upload-r2` uploads). */
  MODELS?: R2Bucket;
  /** Served id of the R2 model (default "corom-base"; "" = serve no R2 model, only Workers AI). */
  MODEL_ID?: string;
  /** Key prefix of the model folder in the bucket (default "models/<MODEL_ID>/"). */
  MODEL_PREFIX?: string;
  /** Which model.<dtype>.onnx the in-isolate backend runs: fp32, int8 or q4 (default q4). */
  MODEL_DTYPE?: string;
  /**
   * The dtype of the layer-shard set to serve (corom.json `shards.<dtype>`, e.g. "int8"); empty =
   * run model.<MODEL_DTYPE>.onnx in this isolate. With it, shard k runs in the Worker bound as
   * SHARD_<k> (worker/shard-worker.ts), and MODEL_DTYPE is not used.
   */
  MODEL_SHARDS?: string;
  /** Largest measured (or estimated) peak memory, in MB of 10^6 bytes, the in-isolate backend may load (default 128). */
  MEMORY_BUDGET_MB?: string;

  /** Service bindings to the shard Workers (wrangler.shard.toml): SHARD_1 runs shard 1, and so on. */
  [shardBinding: `SHARD_${number}`]: Fetcher | undefined;

  /** Comma-separated base URLs of `corom serve` origins (e.g. GPU hosts); empty = none. */
  ORIGINS?: string;
  /** Secret: bearer key the Worker sends to the origins. */
  ORIGIN_API_KEY?: string;
  /** Per-request deadline for one origin attempt, ms (default 10000). */
  ORIGIN_TIMEOUT_MS?: string;
  /** Consecutive failures that open an origin's circuit (default 3). */
  ORIGIN_FAILURES?: string;
  /** How long an open circuit waits before one trial request (half-open), ms (default 30000). */
  ORIGIN_RETRY_MS?: string;
  /** How long an origin's /ready + /v1/models check is trusted, ms (default 30000). */
  ORIGIN_HEALTH_MS?: string;

  /** Workers AI binding (wrangler.toml `[ai] binding = "AI"`). */
  AI?: AiBinding;
  /** Comma-separated Workers AI embedding models to serve, e.g. "@cf/baai/bge-m3" or "@cf/x/y=768". */
  WORKERS_AI_MODELS?: string;

  /** Seconds a /v1/embeddings answer is cached (0 = off, the default). */
  EMBED_CACHE_TTL?: string;
  /** Optional KV namespace for the cache; without it the Cache API (caches.default) is used. */
  EMBED_CACHE?: KVNamespace;

  /** Secret: comma-separated bearer keys clients must send; empty = no authentication. */
  API_KEYS?: string;
  /** Comma-separated CORS origins (`*` for any); empty = no CORS headers. */
  CORS_ORIGINS?: string;
  /** Inputs per request the in-isolate backends accept (default 256). */
  MAX_INPUTS?: string;
  /** Request body bytes (default 4194304). */
  MAX_BODY_BYTES?: string;
  /** Deadline of one request in the in-isolate queue, ms (default 30000). */
  REQUEST_TIMEOUT_MS?: string;
}

/** The slice of ExecutionContext the Worker uses. */
export interface WaitUntil {
  waitUntil(promise: Promise<unknown>): void;
}
