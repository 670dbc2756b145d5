/**
 * Pads encoded sequences into the flat int64 tensors BERT ONNX graphs take
 * (input_ids, attention_mask, token_type_ids, each [batch, sequenceLength], row-major).
 */

export interface PaddedBatch {
  inputIds: BigInt64Array;
  /** 1 for real tokens, 0 for padding. */
  attentionMask: BigInt64Array;
  /** All 0: single-segment inputs. */
  tokenTypeIds: BigInt64Array;
  /** [batch, sequenceLength]. */
  shape: [number, number];
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Pads `sequences` with `padId` to the longest one (or to `length`, which must not be shorter).
 * Ids are non-negative int32, so on little-endian machines each int64 is written as its low
 * 32-bit half through an Int32Array view, avoiding a BigInt per element.
 */
export function padBatch(sequences: readonly Int32Array[], padId: number, length?: number): PaddedBatch {
  let longest = 0;
  for (const s of sequences) longest = Math.max(longest, s.length);
  const width = length ?? longest;
  if (!Number.isInteger(width) || width < longest) {
    throw new RangeError(`padBatch: length ${width} is shorter than the longest sequence (${longest})`);
  }
  const batch = sequences.length;
  const inputIds = new BigInt64Array(batch * width);
  const attentionMask = new BigInt64Array(batch * width);
  const tokenTypeIds = new BigInt64Array(batch * width);
  if (LITTLE_ENDIAN) {
    const ids32 = new Int32Array(inputIds.buffer);
    const mask32 = new Int32Array(attentionMask.buffer);
    for (let b = 0; b < batch; b++) {
      const s = sequences[b];
      const row = b * width;
      for (let t = 0; t < width; t++) {
        const real = t < s.length;
        ids32[2 * (row + t)] = real ? s[t] : padId;
        if (real) mask32[2 * (row + t)] = 1;
      }
    }
  } else {
    const pad = BigInt(padId);
    for (let b = 0; b < batch; b++) {
      const s = sequences[b];
      const row = b * width;
      for (let t = 0; t < width; t++) {
        const real = t < s.length;
        inputIds[row + t] = real ? BigInt(s[t]) : pad;
        if (real) attentionMask[row + t] = 1n;
      }
    }
  }
  return { inputIds, attentionMask, tokenTypeIds, shape: [batch, width] };
}
