/**
 * GPU-backed (or any) `corom serve` origins in front of the in-isolate backend. A batch of
 * complete token-id sequences ([CLS] ... [SEP]) for model M is POSTed to /v1/embeddings
 * (`input` = the id arrays, `normalize: false`, `encoding_format: base64`) of the next origin in
 * round-robin order that is
 *
 *   - not cut off by its circuit breaker (worker/circuit-breaker.ts),
 *   - healthy: GET /ready answered 200 within the last ORIGIN_HEALTH_MS, and
 *   - verified to serve M: its GET /v1/models lists M's id with M's dimensions,
 *
 * and each attempt has a deadline.
 *
 * A rerank model (cross-encoder) goes the same way with text: one query and its passages are
 * POSTed to the origin's /v1/rerank with `raw_scores: true`, and the logits come back in input
 * order (the origin tokenizes the pair itself, with the same vocabulary and max length, so it
 * scores the same tokens the isolate would). The origin must list the model with `kind: rerank`. The Worker's app validated the request and tokenized it, so
 * any answer but 200 with one raw vector of M's dimensions per sequence (a network error, a
 * timeout, 4xx, 5xx, a malformed body) counts against that origin and the next one is tried. When
 * no origin answers, the caller falls back to the in-isolate backend. All state is per isolate.
 */
import { CircuitBreaker, type BreakerState } from './circuit-breaker.js';
import type { OriginConfig } from './config.js';

export interface ExpectedModel {
  id: string;
  dimensions: number;
}

/** Marks a rerank model in a verification's id -> dimensions map (a ranker has no vector size). */
export const RERANK = -1;

export type RankOutcome =
  | { kind: 'answered'; origin: string; logits: Float32Array }
  | { kind: 'unavailable'; reasons: string[]; attempted: number };

export type EmbedOutcome =
  | { kind: 'answered'; origin: string; vectors: Float32Array[] }
  /**
   * Why each origin was not used, e.g. "https://gpu1: timed out after 10000 ms"; `attempted`
   * counts the origins that were asked and failed (not those skipped for an open circuit or
   * another model).
   */
  | { kind: 'unavailable'; reasons: string[]; attempted: number };

export interface OriginStatus {
  url: string;
  breaker: BreakerState;
  consecutiveFailures: number;
  /** Model ids (and dimensions) the last successful check found, and when. */
  models?: Record<string, number>;
  checkedAt?: string;
  lastError?: string;
  answered: number;
  failed: number;
}

interface Verification {
  checkedAt: number;
  models: Map<string, number>;
}

class Origin {
  readonly breaker: CircuitBreaker;
  verification: Verification | undefined;
  /** The verification whose model mismatch was already logged (logged once per check). */
  mismatchLogged: Verification | undefined;
  checking = false;
  lastError: string | undefined;
  answered = 0;
  failed = 0;

  constructor(
    readonly url: string,
    config: OriginConfig,
    now: () => number,
  ) {
    this.breaker = new CircuitBreaker({ failureThreshold: config.failureThreshold, retryAfterMs: config.retryAfterMs }, now);
  }
}

class OriginFailure extends Error {}

export class OriginPool {
  private readonly origins: Origin[];
  private next = 0;

  constructor(
    private readonly config: OriginConfig,
    private readonly now: () => number = Date.now,
    private readonly log: (line: string) => void = () => {},
  ) {
    this.origins = config.urls.map((url) => new Origin(url, config, now));
  }

  get size(): number {
    return this.origins.length;
  }

  /** Raw vectors of complete sequences from the first origin (round robin) that is up and serves `model`. */
  async embed(sequences: readonly Int32Array[], model: ExpectedModel): Promise<EmbedOutcome> {
    const body = new TextEncoder().encode(
      JSON.stringify({ model: model.id, input: sequences.map((s) => Array.from(s)), encoding_format: 'base64', normalize: false }),
    );
    const outcome = await this.first(model, (origin) => this.post(origin, body, sequences.length, model.dimensions));
    return outcome.kind === 'answered' ? { kind: 'answered', origin: outcome.origin, vectors: outcome.value } : outcome;
  }

  /** Logits of `passages` against `query` (input order) from the first origin that is up and serves rerank model `id`. */
  async rank(id: string, query: string, passages: readonly string[]): Promise<RankOutcome> {
    const body = new TextEncoder().encode(JSON.stringify({ model: id, query, documents: passages, raw_scores: true, return_documents: false }));
    const outcome = await this.first({ id, dimensions: RERANK }, (origin) => this.postRerank(origin, body, passages.length));
    return outcome.kind === 'answered' ? { kind: 'answered', origin: outcome.origin, logits: outcome.value } : outcome;
  }

  /** `call` on the first origin (round robin) that is up and serves `model`, with the breaker's bookkeeping. */
  private async first<T>(model: ExpectedModel, call: (origin: Origin) => Promise<T>): Promise<{ kind: 'answered'; origin: string; value: T } | { kind: 'unavailable'; reasons: string[]; attempted: number }> {
    const reasons: string[] = [];
    let attempted = 0;
    const count = this.origins.length;
    const start = this.next;
    this.next = (this.next + 1) % Math.max(count, 1);
    for (let k = 0; k < count; k++) {
      const origin = this.origins[(start + k) % count]!;
      if (!origin.breaker.tryAcquire()) {
        reasons.push(`${origin.url}: circuit open after ${origin.breaker.consecutiveFailures} failures (${origin.lastError ?? 'no detail'})`);
        continue;
      }
      try {
        // A half-open trial re-checks the origin first: it may have come back with another model.
        const verification = await this.verified(origin, origin.breaker.state === 'half-open');
        const dims = verification.models.get(model.id);
        if (dims !== model.dimensions) {
          origin.breaker.release();
          const reason =
            `${origin.url}: ` +
            (dims === undefined
              ? `does not serve '${model.id}' (serves ${[...verification.models.keys()].join(', ') || 'nothing'})`
              : model.dimensions === RERANK || dims === RERANK
                ? `serves '${model.id}' as ${dims === RERANK ? 'a rerank' : 'an embedding'} model, not as ${model.dimensions === RERANK ? 'a rerank' : 'an embedding'} model`
                : `serves '${model.id}' with ${dims} dimensions, not ${model.dimensions}`);
          if (origin.mismatchLogged !== verification) {
            origin.mismatchLogged = verification;
            this.log(`origin ${reason}; not used for it`);
          }
          reasons.push(reason);
          continue;
        }
        const value = await call(origin);
        origin.breaker.success();
        origin.answered++;
        return { kind: 'answered', origin: origin.url, value };
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        attempted++;
        this.fail(origin, reason);
        reasons.push(`${origin.url}: ${reason}`);
      }
    }
    return { kind: 'unavailable', reasons, attempted };
  }

  /**
   * Whether some origin is usable for `model` right now (for /ready): checks origins whose
   * verification is missing or stale, skipping open circuits.
   */
  async serves(model: ExpectedModel): Promise<boolean> {
    for (const origin of this.origins) {
      if (origin.breaker.state !== 'closed') continue;
      try {
        const verification = await this.verified(origin, false);
        if (verification.models.get(model.id) === model.dimensions) return true;
      } catch (error) {
        this.fail(origin, error instanceof Error ? error.message : String(error));
      }
    }
    return false;
  }

  status(): OriginStatus[] {
    return this.origins.map((o) => ({
      url: o.url,
      breaker: o.breaker.state,
      consecutiveFailures: o.breaker.consecutiveFailures,
      ...(o.verification
        ? { models: Object.fromEntries(o.verification.models), checkedAt: new Date(o.verification.checkedAt).toISOString() }
        : {}),
      ...(o.lastError ? { lastError: o.lastError } : {}),
      answered: o.answered,
      failed: o.failed,
    }));
  }

  private fail(origin: Origin, reason: string): void {
    const wasClosed = origin.breaker.state === 'closed';
    origin.breaker.failure();
    origin.failed++;
    origin.lastError = reason;
    // Forget what it served: whatever comes back on that address is checked again before use.
    origin.verification = undefined;
    if (wasClosed && origin.breaker.state !== 'closed') this.log(`origin ${origin.url} circuit opened: ${reason}`);
  }

  /**
   * The origin's last check if fresh, else a new one. While another request re-checks a stale
   * origin, the previous result stays in use (no request waits for a check it does not need).
   */
  private async verified(origin: Origin, force: boolean): Promise<Verification> {
    const current = origin.verification;
    const fresh = current !== undefined && this.now() - current.checkedAt < this.config.healthTtlMs;
    if (current && !force && (fresh || origin.checking)) return current;
    origin.checking = true;
    try {
      const ready = await this.request(origin, '/ready', { method: 'GET' });
      if (ready.status !== 200) throw new OriginFailure(`GET /ready answered ${ready.status}${await errorDetail(ready)}`);
      await ready.body?.cancel();
      const listing = await this.request(origin, '/v1/models', { method: 'GET' });
      if (listing.status !== 200) throw new OriginFailure(`GET /v1/models answered ${listing.status}${await errorDetail(listing)}`);
      const verification = { checkedAt: this.now(), models: parseModelList(await listing.json().catch(() => undefined)) };
      origin.verification = verification;
      return verification;
    } finally {
      origin.checking = false;
    }
  }

  private async post(origin: Origin, body: Uint8Array<ArrayBuffer>, count: number, dimensions: number): Promise<Float32Array[]> {
    const response = await this.request(origin, '/v1/embeddings', { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    if (response.status !== 200) throw new OriginFailure(`POST /v1/embeddings answered ${response.status}${await errorDetail(response)}`);
    // The body is read under no deadline (see request()); a malformed one is the origin's failure.
    return readVectors(await response.json().catch(() => undefined), count, dimensions);
  }

  private async postRerank(origin: Origin, body: Uint8Array<ArrayBuffer>, count: number): Promise<Float32Array> {
    const response = await this.request(origin, '/v1/rerank', { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    if (response.status !== 200) throw new OriginFailure(`POST /v1/rerank answered ${response.status}${await errorDetail(response)}`);
    return readLogits(await response.json().catch(() => undefined), count);
  }

  /** One HTTP exchange with the deadline; the API key replaces whatever the client sent. */
  private async request(origin: Origin, path: string, init: { method: string; body?: Uint8Array<ArrayBuffer>; headers?: Record<string, string> }): Promise<Response> {
    const headers: Record<string, string> = { ...init.headers };
    if (this.config.apiKey) headers.authorization = `Bearer ${this.config.apiKey}`;
    // The deadline ends when the response head arrives: corom serve sends its JSON body in one go
    // right after, and a deadline on the streamed body would cut answers that already succeeded.
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.config.timeoutMs);
    try {
      return await fetch(`${origin.url}${path}`, {
        method: init.method,
        headers,
        ...(init.body ? { body: init.body } : {}),
        signal: controller.signal,
      });
    } catch (error) {
      if (timedOut) throw new OriginFailure(`${init.method} ${path} timed out after ${this.config.timeoutMs} ms`);
      throw new OriginFailure(`${init.method} ${path} failed: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** `count` base64 float32 vectors of `dimensions` from an OpenAI embeddings answer, in `index` order. */
function readVectors(body: unknown, count: number, dimensions: number): Float32Array[] {
  const data = (body as { data?: unknown } | undefined)?.data;
  if (!Array.isArray(data) || data.length !== count) {
    throw new OriginFailure(`POST /v1/embeddings answered ${Array.isArray(data) ? `${data.length} embeddings for ${count} inputs` : 'without a data array'}`);
  }
  const vectors = new Array<Float32Array>(count);
  for (const item of data as Array<{ index?: unknown; embedding?: unknown }>) {
    const index = item?.index;
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= count || vectors[index]) {
      throw new OriginFailure('POST /v1/embeddings answered embeddings with missing or repeated indexes');
    }
    if (typeof item.embedding !== 'string') throw new OriginFailure('POST /v1/embeddings answered a non-base64 embedding');
    const bytes = Uint8Array.from(atob(item.embedding), (ch) => ch.charCodeAt(0));
    if (bytes.byteLength !== dimensions * 4) {
      throw new OriginFailure(`POST /v1/embeddings answered a vector of ${bytes.byteLength / 4} floats, not ${dimensions}`);
    }
    const vector = new Float32Array(bytes.buffer);
    if (!vector.every(Number.isFinite)) throw new OriginFailure('POST /v1/embeddings answered a vector with non-finite values');
    vectors[index] = vector;
  }
  return vectors;
}

/** `count` logits from a rerank answer (`raw_scores: true`), put back in input order by `index`. */
function readLogits(body: unknown, count: number): Float32Array {
  const results = (body as { results?: unknown } | undefined)?.results;
  if (!Array.isArray(results) || results.length !== count) {
    throw new OriginFailure(`POST /v1/rerank answered ${Array.isArray(results) ? `${results.length} results for ${count} documents` : 'without a results array'}`);
  }
  const logits = new Float32Array(count);
  const seen = new Set<number>();
  for (const item of results as Array<{ index?: unknown; relevance_score?: unknown }>) {
    const index = item?.index;
    const score = item?.relevance_score;
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= count || seen.has(index)) {
      throw new OriginFailure('POST /v1/rerank answered results with missing or repeated indexes');
    }
    if (typeof score !== 'number' || !Number.isFinite(score)) throw new OriginFailure('POST /v1/rerank answered a non-finite relevance_score');
    seen.add(index);
    logits[index] = score;
  }
  return logits;
}

/** ` (message)` from an OpenAI-shaped error body, if there is one; never more than a line. */
async function errorDetail(response: Response): Promise<string> {
  const text = await response.text().catch(() => '');
  try {
    const message = (JSON.parse(text) as { error?: { message?: unknown } }).error?.message;
    return typeof message === 'string' ? ` (${message.slice(0, 200)})` : '';
  } catch {
    return '';
  }
}

/** id -> dimensions from an OpenAI model list with corom's `dimensions` field (RERANK for `kind: rerank`). */
function parseModelList(body: unknown): Map<string, number> {
  const data = (body as { data?: unknown } | undefined)?.data;
  if (!Array.isArray(data)) throw new OriginFailure('GET /v1/models did not answer an OpenAI model list');
  const models = new Map<string, number>();
  for (const card of data) {
    const { id, dimensions, kind } = (card ?? {}) as { id?: unknown; dimensions?: unknown; kind?: unknown };
    if (typeof id === 'string' && kind === 'rerank') models.set(id, RERANK);
    else if (typeof id === 'string' && typeof dimensions === 'number') models.set(id, dimensions);
  }
  return models;
}
