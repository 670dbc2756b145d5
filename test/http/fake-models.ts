/**
 * Small deterministic served models for in-process app tests (no engine, no onnxruntime). They
 * really compute: a vector is a function of the sequence, so order and routing are checkable.
 */
import type { ModelInfo } from '../../src/engine/types.js';
import type { TextModel, TokenModel } from '../../src/core/served-model.js';

export interface FakeTokenModelOptions {
  id?: string;
  dimensions?: number;
  maxLength?: number;
  vocabSize?: number;
  backend?: string;
  /** A batch holding this token id throws (inference failure). */
  failOn?: number;
  /** Each batch waits this long (timeouts, full queues). */
  delayMs?: number;
}

/** Shaped like the tiny-bert fixture by default: id tiny-bert, 32 dims, vocab 21128, max 128 tokens, [CLS] 101, [SEP] 102. */
export function fakeTokenModel(options: FakeTokenModelOptions = {}): TokenModel & { batches: Int32Array[][] } {
  const { id = 'tiny-bert', dimensions = 32, maxLength = 128, vocabSize = 21128, backend = 'fake-cpu' } = options;
  const info: ModelInfo = { id, dimensions, maxLength, pooling: 'cls', dtype: 'fp32', backend, vocabSize };
  const batches: Int32Array[][] = [];
  return {
    kind: 'tokens',
    info,
    special: { cls: 101, sep: 102 },
    batches,
    tokenize: (texts) =>
      texts.map((t) => {
        const body = Array.from(t, (ch) => 1000 + ((ch.codePointAt(0) ?? 0) % (vocabSize - 1000))).slice(0, maxLength - 2);
        return Int32Array.from([101, ...body, 102]);
      }),
    tokenStrings: (ids) => Array.from(ids, (x) => (x === 101 ? '[CLS]' : x === 102 ? '[SEP]' : `t${x}`)),
    embedTokens: async (sequences) => {
      batches.push([...sequences]);
      if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
      if (options.failOn !== undefined && sequences.some((s) => s.includes(options.failOn!))) throw new Error('/secret/path/model.onnx: kernel failure');
      return {
        vectors: sequences.map((s) => {
          const v = new Float32Array(dimensions);
          for (let i = 0; i < s.length; i++) v[i % dimensions] += (s[i]! % 97) + 1;
          return v;
        }),
        backend,
      };
    },
  };
}

/** A text-only model (like Workers AI): no token ids, no /tokenize. */
export function fakeTextModel(options: { id?: string; dimensions?: number; backend?: string } = {}): TextModel {
  const { id = 'text-only', dimensions = 3, backend = 'fake-text' } = options;
  return {
    kind: 'text',
    info: { id, dimensions, maxLength: 128, pooling: 'cls', dtype: 'fp32', backend, vocabSize: 0 },
    embedTexts: async (texts) => ({ vectors: texts.map((t) => Float32Array.from([t.length, 1, 0].slice(0, dimensions))), tokenCounts: texts.map((t) => t.length + 2), backend }),
  };
}
