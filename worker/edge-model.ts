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
 */
import { Engine } from '../src/engine/engine.js';
import type { Embedder } from '../src/engine/types.js';
import { BackendUnavailableError, CoromError } from '../src/errors.js';
import { servedEngine, type EmbeddedBatch, type TokenModel } from '../src/core/served-model.js';
import type { InIsolateBackend, ModelCard } from './isolate-model.js';
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
    embedTokens: async (ids) => (await isolate.load()).embedTokens(ids),
    close: async () => {},
  };
  // Tokenizer, special ids and /tokenize strings as the Engine has them; embedTokens replaced below.
  const base = servedEngine(new Engine(card.tokenizer, lazyWasm), { backend: isolate.backend });

  async function embedTokens(sequences: readonly Int32Array[]): Promise<EmbeddedBatch> {
    const originCount = origins?.size ?? 0;
    if (origins && originCount > 0) {
      const outcome = await origins.embed(sequences, expected);
      if (outcome.kind === 'answered') return { vectors: outcome.vectors, backend: originBackend(outcome.origin) };
      // Skips (open circuits, other models) were logged when they began; failures are news.
      if (outcome.attempted > 0) log(`no origin answered for '${expected.id}', answering in the isolate: ${outcome.reasons.join('; ')}`);
    }
    try {
      await isolate.load();
    } catch (error) {
      if (!(error instanceof CoromError)) throw error;
      // Origin addresses stay in the log: they are often private hosts.
      const either = originCount > 0 ? ` No origin answered either (${originCount} configured).` : '';
      // A refusal is the configuration, the same for every request: logged once per isolate.
      if (!(error instanceof MemoryBudgetError) || !refusalLogged) log(`in-isolate backend unavailable for '${expected.id}': ${error.message}`);
      if (error instanceof MemoryBudgetError) {
        refusalLogged = true;
        throw new BackendUnavailableError(`it cannot run in this Worker: ${error.message}.${either}`, 'model_over_memory_budget', 30, { cause: error });
      }
      throw new BackendUnavailableError(`${error.message}.${either}`, error instanceof ShardUnavailableError ? 'shard_unavailable' : 'model_unavailable', 30, { cause: error });
    }
    try {
      return { vectors: await lazyWasm.embedTokens(sequences), backend: isolate.backend };
    } catch (error) {
      if (!(error instanceof ShardUnavailableError)) throw error;
      // A shard Worker missing or failing: the request gets a 503 naming it.
      log(`in-isolate backend failed for '${expected.id}': ${error.message}`);
      const either = originCount > 0 ? ` No origin answered either (${originCount} configured).` : '';
      throw new BackendUnavailableError(`${error.message}.${either}`, 'shard_unavailable', 30, { cause: error });
    }
  }

  return { ...base, embedTokens };
}
