/**
 * Token-id input (`input: number[] | number[][]`) made into complete sequences for a
 * [CLS]-pooling BERT. The pooled vector is the [CLS] row, so a sequence without [CLS] first would
 * pool an ordinary token: ids are wrapped as [CLS] ... [SEP] unless the caller already put
 * [CLS] first / [SEP] last, then cut to the model's max length keeping [SEP] last -- exactly what
 * the tokenizer does to text, so `/tokenize` output fed back as ids gives the same vector.
 */
import { InvalidTokenIdError } from './errors.js';

export interface TokenLimits {
  vocabSize: number;
  maxLength: number;
  cls: number;
  sep: number;
}

/**
 * Validates ids against the vocabulary and returns complete, truncated sequences. `param(i)` names
 * sequence i the way the client wrote it (`input`, `input[2]`); an InvalidTokenIdError names the id's path.
 */
export function completeSequences(sequences: readonly (readonly number[])[], limits: TokenLimits, param: (i: number) => string): Int32Array[] {
  return sequences.map((ids, i) => {
    for (let j = 0; j < ids.length; j++) {
      const id = ids[j];
      if (!Number.isInteger(id) || id < 0 || id >= limits.vocabSize) {
        throw new InvalidTokenIdError(`${param(i)}[${j}]`, id, limits.vocabSize);
      }
    }
    const start = ids[0] === limits.cls ? 1 : 0;
    const end = ids.length > start && ids[ids.length - 1] === limits.sep ? ids.length - 1 : ids.length;
    const body = ids.slice(start, end);
    const kept = body.slice(0, Math.max(0, limits.maxLength - 2));
    const sequence = new Int32Array(kept.length + 2);
    sequence[0] = limits.cls;
    sequence.set(kept, 1);
    sequence[sequence.length - 1] = limits.sep;
    return sequence;
  });
}
