/**
 * The R2 model as the app serves it: one TokenModel whose tokenizer and card come from R2
 * (vocab.txt, corom.json) and whose batches are computed by the first backend that can:
 *
 *   1. an origin (ORIGINS; worker/origins.ts): the same token ids POSTed to its /v1/embeddings,
 *      raw vectors back (label `origin:<url>`);
 *   2. the isolate's onnxruntime-web session (label `wasm`), loaded on first use when the
 *      artifact fits MEMORY_BUDGET_MB; or, with MODEL_SHARDS, the model's layer shards run by shard
 *      Workers over service bindings (label `wasm-shards:<N>`, worker/shard-chain.ts).
 *
 * When neither can, the batch fails with a BackendUnavailableError that says why (over the memory
 * budget, artifact unreadable, and whether origins were tried): the app answers 503 with it.
 * Everything else -- validation, batching, normalization, rerank, the ModelScope pipeline, request
 * ids, errors, /metrics -- is the app's, exactly as on Node.
 *
 * A rerank model in R2 (corom.json `task: rerank`, a cross-encoder) is served by edgeRanker: the
 * same app routes (/v1/rerank, /v2/rerank, /v1/text-ranking), scored by origins or in the isolate.
 */
import { Engine } from '../src/engine/engine.js';
import { Ranker } from '../src/engine/ranker.js';
import type { Embedder, PairScorer, TokenPair } from '../src/engine/types.js';
import { BackendUnavailableError, CoromError } from '../src/errors.js';
import { servedEngine, type EmbeddedBatch, type RankingModel, type ScoredBatch, type TokenModel } from '../src/core/served-model.js';
import { rankerInfo, type InIsolateBackend, type ModelCard } from './isolate-model.js';
import { MemoryBudgetError } from './memory-budget.js';
import type { OriginPool } from './origins.js';
import { ShardUnavailableError } from './shard-chain.js';

export const WASM_BACKEND = 'wasm';
export const originBackend = (url: string): string => `origin:${url}`;

export interface EdgeModelParts {
  isolate: InIsolateBackend;
  origins?: OriginPool;
  log(line: string): void;
}

/** The served model for a described R2 model: origins first, then the isolate. */
export function edgeModel(card: ModelCard, parts: EdgeModelParts): TokenModel {
  const { isolate, origins, log } = parts;
  const expected = { id: card.info.id, dimensions: card.info.dimensions };
  let refusalLogged = false;

  const lazyWasm: Embedder = {
    info: card.info,
    embedTokens: async (ids) => ((await isolate.load()) as Embedder).embedTokens(ids),
    close: async () => {},
  };
  // Tokenizer, special ids and /tokenize strings as the Engine has them; embedTokens replaced below.
  const base = servedEngine(new Engine(card.tokenizer, lazyWasm), { backend: isolate.backend });

  async function embedTokens(sequences: readonly Int32Array[]): Promise<EmbeddedBatch> {
    if (origins && origins.size > 0) {
      const outcome = await origins.embed(sequences, expected);
      if (outcome.kind === 'answered') return { vectors: outcome.vectors, backend: originBackend(outcome.origin) };
      // Skips (open circuits, other models) were logged when they began; failures are news.
      if (outcome.attempted > 0) log(`no origin answered for '${expected.id}', answering in the isolate: ${outcome.reasons.join('; ')}`);
    }
    await loadIsolate(isolate, expected.id, origins?.size ?? 0, log, () => refusalLogged, () => (refusalLogged = true));
    try {
      return { vectors: await lazyWasm.embedTokens(sequences), backend: isolate.backend };
    } catch (error) {
      if (!(error instanceof ShardUnavailableError)) throw error;
      // A shard Worker missing or failing: the request gets a 503 naming it.
      log(`in-isolate backend failed for '${expected.id}': ${error.message}`);
      const originCount = origins?.size ?? 0;
      const either = originCount > 0 ? ` No origin answered either (${originCount} configured).` : '';
      throw new BackendUnavailableError(`${error.message}.${either}`, 'shard_unavailable', 30, { cause: error });
    }
  }

  return { ...base, embedTokens };
}

/** A tokenized pair that keeps its texts, for origins (they take text and tokenize it themselves). */
interface TextPair extends TokenPair {
  query: string;
  passage: string;
}

function hasTexts(pair: TokenPair): pair is TextPair {
  return typeof (pair as Partial<TextPair>).query === 'string' && typeof (pair as Partial<TextPair>).passage === 'string';
}

/**
 * A rerank model (cross-encoder) from R2 as the app serves it: pairs tokenized by the engine's
 * Ranker over the R2 vocabulary, and each batch scored by the first backend that can:
 *
 *   1. origins (ORIGINS): each query of the batch with its passages POSTed to an origin's
 *      /v1/rerank with `raw_scores: true` (worker/origins.ts), logits back (label `origin:<url>`);
 *   2. the isolate's onnxruntime-web session (label `wasm`), under the memory budget.
 *
 * A batch is answered whole by origins or whole by the isolate.
 */
export function edgeRanker(card: ModelCard, parts: EdgeModelParts): RankingModel {
  const { isolate, origins, log } = parts;
  let refusalLogged = false;
  const info = rankerInfo(card);
  const ranker = new Ranker(card.tokenizer, {
    info,
    scoreTokens: async (pairs) => {
      await loadIsolate(isolate, info.id, origins?.size ?? 0, log, () => refusalLogged, () => (refusalLogged = true));
      return ((await isolate.load()) as PairScorer).scoreTokens(pairs);
    },
    close: async () => {},
  });

  /** The batch's logits from origins, one call per query of the batch; undefined when one is not answered. */
  async function fromOrigins(pairs: readonly TextPair[]): Promise<ScoredBatch | undefined> {
    const byQuery = new Map<string, number[]>();
    pairs.forEach((p, i) => byQuery.set(p.query, [...(byQuery.get(p.query) ?? []), i]));
    const logits = new Float32Array(pairs.length);
    const used: string[] = [];
    for (const [query, indexes] of byQuery) {
      const outcome = await origins!.rank(info.id, query, indexes.map((i) => pairs[i]!.passage));
      if (outcome.kind !== 'answered') {
        if (outcome.attempted > 0) log(`no origin answered for '${info.id}', answering in the isolate: ${outcome.reasons.join('; ')}`);
        return undefined;
      }
      indexes.forEach((i, k) => (logits[i] = outcome.logits[k]!));
      const label = originBackend(outcome.origin);
      if (!used.includes(label)) used.push(label);
    }
    return { logits, backend: used.join(',') };
  }

  return {
    task: 'rerank',
    info,
    tokenizePairs: (query, passages) => ranker.tokenizePairs(query, passages).map((pair, i): TextPair => ({ ...pair, query, passage: passages[i]! })),
    scorePairs: async (pairs) => {
      if (origins && origins.size > 0 && pairs.every(hasTexts)) {
        const answered = await fromOrigins(pairs);
        if (answered) return answered;
      }
      return { logits: await ranker.scorePairs(pairs), backend: WASM_BACKEND };
    },
  };
}

/** Loads the isolate's session, turning why it cannot into a BackendUnavailableError (503 with the reason). */
async function loadIsolate(isolate: InIsolateBackend, id: string, originCount: number, log: (line: string) => void, logged: () => boolean, markLogged: () => void): Promise<void> {
  try {
    await isolate.load();
  } catch (error) {
    if (!(error instanceof CoromError)) throw error;
    // Origin addresses stay in the log: they are often private hosts.
    const either = originCount > 0 ? ` No origin answered either (${originCount} configured).` : '';
    // A refusal is the configuration, the same for every request: logged once per isolate.
    if (!(error instanceof MemoryBudgetError) || !logged()) log(`in-isolate backend unavailable for '${id}': ${error.message}`);
    if (error instanceof MemoryBudgetError) {
      markLogged();
      throw new BackendUnavailableError(`it cannot run in this Worker: ${error.message}.${either}`, 'model_over_memory_budget', 30, { cause: error });
    }
    throw new BackendUnavailableError(`${error.message}.${either}`, error instanceof ShardUnavailableError ? 'shard_unavailable' : 'model_unavailable', 30, { cause: error });
  }
}
