/**
 * Workers AI embedding models served under their own ids (e.g. "@cf/baai/bge-m3") through the
 * `AI` binding: `env.AI.run(model, { text: [...] })` answers `{ shape: [n, dims], data: number[][] }`
 * (workers-types Ai_Cf_Baai_Bge_*_Output). Text only: the service answers token-id input and
 * /tokenize with 400 for these models, since Workers AI does not expose its tokenizer.
 */
import type { ModelInfo, Pooling } from '../src/engine/types.js';
import { UsageError } from '../src/errors.js';
import type { TextEmbeddings, TextModel } from '../src/core/served-model.js';
import type { AiBinding } from './env.js';

export interface WorkersAiModelSpec {
  id: string;
  dimensions: number;
  /** Longest input in tokens, for token estimates (Workers AI truncates or refuses itself). */
  maxLength: number;
  pooling: Pooling;
}

/** Embedding models whose output size is known here; others need "id=dims" in WORKERS_AI_MODELS. */
export const KNOWN_WORKERS_AI_MODELS: Readonly<Record<string, Omit<WorkersAiModelSpec, 'id'>>> = {
  '@cf/baai/bge-small-en-v1.5': { dimensions: 384, maxLength: 512, pooling: 'mean' },
  '@cf/baai/bge-base-en-v1.5': { dimensions: 768, maxLength: 512, pooling: 'mean' },
  '@cf/baai/bge-large-en-v1.5': { dimensions: 1024, maxLength: 512, pooling: 'mean' },
  '@cf/baai/bge-m3': { dimensions: 1024, maxLength: 8192, pooling: 'cls' },
};

/** Texts per `AI.run` call: the bge models' input schema allows at most 100. */
export const WORKERS_AI_BATCH = 100;
/** Backend label of Workers AI answers (x-corom-backend, /metrics). */
export const WORKERS_AI_BACKEND = 'workers-ai';

/** One WORKERS_AI_MODELS entry: a known id, or "id=dims" for any other embedding model. */
export function workersAiModelSpec(entry: string): WorkersAiModelSpec {
  const [id, dims] = entry.split('=').map((part) => part.trim()) as [string, string | undefined];
  if (!/^@cf\/[\w.-]+\/[\w.-]+$/.test(id)) {
    throw new UsageError(`WORKERS_AI_MODELS: "${entry}" is not a Workers AI model id (expected e.g. @cf/baai/bge-m3)`);
  }
  const known = KNOWN_WORKERS_AI_MODELS[id];
  if (dims === undefined) {
    if (!known) {
      throw new UsageError(`WORKERS_AI_MODELS: the output size of ${id} is not known here; write it as "${id}=<dimensions>"`);
    }
    return { id, ...known };
  }
  const dimensions = Number(dims);
  if (!Number.isInteger(dimensions) || dimensions < 1) throw new UsageError(`WORKERS_AI_MODELS: "${entry}" must end in "=<positive integer dimensions>"`);
  return { id, dimensions, maxLength: known?.maxLength ?? 512, pooling: known?.pooling ?? 'mean' };
}

export function workersAiModel(ai: AiBinding, spec: WorkersAiModelSpec): TextModel {
  const info: ModelInfo = {
    id: spec.id,
    dimensions: spec.dimensions,
    maxLength: spec.maxLength,
    pooling: spec.pooling,
    // Workers AI does not say how it stores the weights; the vectors arrive as float32.
    dtype: 'fp32',
    backend: WORKERS_AI_BACKEND,
    // Unknown (no token ids): the model card reports 0.
    vocabSize: 0,
  };
  return {
    kind: 'text',
    info,
    async embedTexts(texts: readonly string[]): Promise<TextEmbeddings> {
      const vectors: Float32Array[] = [];
      for (let start = 0; start < texts.length; start += WORKERS_AI_BATCH) {
        const chunk = texts.slice(start, start + WORKERS_AI_BATCH);
        vectors.push(...readEmbeddings(spec, await ai.run(spec.id, { text: chunk }), chunk.length));
      }
      // Workers AI reports no token counts; a character count bounded by the max length stands in.
      return { vectors, tokenCounts: texts.map((text) => Math.min(text.length + 2, spec.maxLength)), backend: WORKERS_AI_BACKEND };
    },
  };
}

/** `{shape, data}` checked against what was asked, so a changed API fails loudly, not with wrong vectors. */
function readEmbeddings(spec: WorkersAiModelSpec, output: unknown, expected: number): Float32Array[] {
  const data = (output as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) {
    const keys = output && typeof output === 'object' ? Object.keys(output).join(', ') : typeof output;
    throw new Error(`Workers AI ${spec.id} answered without a data array (keys: ${keys})`);
  }
  if (data.length !== expected) throw new Error(`Workers AI ${spec.id} returned ${data.length} vectors for ${expected} texts`);
  return data.map((row: unknown, i) => {
    if (!Array.isArray(row) || row.length !== spec.dimensions || !row.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      throw new Error(`Workers AI ${spec.id} vector ${i} is not ${spec.dimensions} finite numbers (check the dimensions in WORKERS_AI_MODELS)`);
    }
    return Float32Array.from(row as number[]);
  });
}
