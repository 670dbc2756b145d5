/** Multiply-add work of one BERT encoder pass, for the achieved-GOP/s figure. */
import type { BertConfig } from '../../src/checkpoint/bert-config.js';

/** Operations (2 per multiply-add) to encode one padded sequence of `length` tokens. */
export function encoderOps(c: BertConfig, length: number): number {
  const H = c.hiddenSize;
  const perTokenLinear = 2 * (4 * H * H + 2 * H * c.intermediateSize); // QKV, output, FFN in/out
  const attention = 2 * 2 * length * H; // QK^T and PV, per token
  return c.numLayers * length * (perTokenLinear + attention);
}
