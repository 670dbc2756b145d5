/**
 * A small ONNX model that follows the converter's graph contract (int64 input_ids /
 * attention_mask / token_type_ids [batch, seq] -> float32 sentence_embedding [batch, hidden]),
 * built with onnx-proto so the workerd tests do not depend on the converter:
 *
 *   emb  = word[input_ids] + types[token_type_ids]
 *   mean = sum(emb * mask, seq) / sum(mask, seq)          (masked mean pooling)
 *   out  = LayerNormalization(mean @ W + bias, gamma, beta)
 *
 * `referenceEmbedding` computes the same in float64 TypeScript, independently of onnxruntime.
 */
import onnxProto, { type onnx as OnnxTypes } from 'onnx-proto';

const { onnx } = onnxProto;

export const TINY_HIDDEN = 16;
export const TINY_EPSILON = 1e-5;

export interface TinyWeights {
  vocabSize: number;
  word: Float32Array; // [vocab, H]
  types: Float32Array; // [2, H]
  w: Float32Array; // [H, H]
  bias: Float32Array;
  gamma: Float32Array;
  beta: Float32Array;
}

/** Deterministic weights (mulberry32), values in [-1, 1); gamma around 1 so LayerNorm is not degenerate. */
export function tinyWeights(vocabSize: number, seed = 7): TinyWeights {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const fill = (n: number, offset = 0): Float32Array => Float32Array.from({ length: n }, () => offset + next() * 2 - 1);
  const H = TINY_HIDDEN;
  return { vocabSize, word: fill(vocabSize * H), types: fill(2 * H), w: fill(H * H), bias: fill(H), gamma: fill(H, 1), beta: fill(H) };
}

export function tinyEmbeddingModel(weights: TinyWeights): Uint8Array {
  const H = TINY_HIDDEN;
  const FLOAT = onnx.TensorProto.DataType.FLOAT;
  const INT64 = onnx.TensorProto.DataType.INT64;
  const floats = (name: string, dims: number[], data: Float32Array) =>
    onnx.TensorProto.create({ name, dims, dataType: FLOAT, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
  const int64s = (name: string, values: number[]) => onnx.TensorProto.create({ name, dims: [values.length], dataType: INT64, int64Data: values });
  const tokens = (name: string) =>
    onnx.ValueInfoProto.create({
      name,
      type: { tensorType: { elemType: INT64, shape: { dim: [{ dimParam: 'batch' }, { dimParam: 'seq' }] } } },
    });
  const node = (opType: string, input: string[], output: string, attribute: OnnxTypes.IAttributeProto[] = []) =>
    onnx.NodeProto.create({ opType, input, output: [output], name: output, attribute });
  const INT = onnx.AttributeProto.AttributeType.INT;
  const FLOAT_ATTR = onnx.AttributeProto.AttributeType.FLOAT;

  const graph = onnx.GraphProto.create({
    name: 'tiny_embedding',
    input: [tokens('input_ids'), tokens('attention_mask'), tokens('token_type_ids')],
    output: [
      onnx.ValueInfoProto.create({
        name: 'sentence_embedding',
        type: { tensorType: { elemType: FLOAT, shape: { dim: [{ dimParam: 'batch' }, { dimValue: H }] } } },
      }),
    ],
    initializer: [
      floats('word', [weights.vocabSize, H], weights.word),
      floats('types', [2, H], weights.types),
      floats('w', [H, H], weights.w),
      floats('bias', [H], weights.bias),
      floats('gamma', [H], weights.gamma),
      floats('beta', [H], weights.beta),
      int64s('seq_axis', [1]),
      int64s('last_axis', [2]),
    ],
    node: [
      node('Gather', ['word', 'input_ids'], 'word_emb'),
      node('Gather', ['types', 'token_type_ids'], 'type_emb'),
      node('Add', ['word_emb', 'type_emb'], 'emb'),
      node('Cast', ['attention_mask'], 'mask_f', [{ name: 'to', type: INT, i: FLOAT }]),
      node('Unsqueeze', ['mask_f', 'last_axis'], 'mask_3d'),
      node('Mul', ['emb', 'mask_3d'], 'masked'),
      node('ReduceSum', ['masked', 'seq_axis'], 'summed', [{ name: 'keepdims', type: INT, i: 0 }]),
      node('ReduceSum', ['mask_f', 'seq_axis'], 'count', [{ name: 'keepdims', type: INT, i: 1 }]),
      node('Div', ['summed', 'count'], 'mean'),
      node('MatMul', ['mean', 'w'], 'projected'),
      node('Add', ['projected', 'bias'], 'biased'),
      node('LayerNormalization', ['biased', 'gamma', 'beta'], 'sentence_embedding', [
        { name: 'axis', type: INT, i: -1 },
        { name: 'epsilon', type: FLOAT_ATTR, f: TINY_EPSILON },
      ]),
    ],
  });
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'corom-edge-test',
    opsetImport: [{ domain: '', version: 17 }],
    graph,
  });
  return onnx.ModelProto.encode(model).finish();
}

/** The model's output for one complete sequence (token types all 0, mask all 1), in float64. */
export function referenceEmbedding(weights: TinyWeights, ids: readonly number[]): number[] {
  const H = TINY_HIDDEN;
  const mean = new Array<number>(H).fill(0);
  for (const id of ids) for (let h = 0; h < H; h++) mean[h] += weights.word[id * H + h] + weights.types[h];
  for (let h = 0; h < H; h++) mean[h] /= ids.length;
  const biased = Array.from({ length: H }, (_, j) => {
    let sum = weights.bias[j];
    for (let k = 0; k < H; k++) sum += mean[k] * weights.w[k * H + j];
    return sum;
  });
  const mu = biased.reduce((a, b) => a + b, 0) / H;
  const variance = biased.reduce((a, b) => a + (b - mu) ** 2, 0) / H;
  return biased.map((v, j) => ((v - mu) / Math.sqrt(variance + TINY_EPSILON)) * weights.gamma[j] + weights.beta[j]);
}
