/**
 * Emits the ONNX graph of a BERT encoder whose output is the sentence embedding.
 *
 * The graph is written with onnxruntime's fused contrib ops (com.microsoft) rather than the
 * primitive ops a PyTorch export gives, so both onnxruntime-node and onnxruntime-web run it at full
 * speed without relying on pattern-matching fusions:
 *   - MultiHeadAttention (scaled dot-product attention over all heads, key padding mask),
 *   - SkipLayerNormalization (residual add + bias + LayerNorm in one pass),
 *   - BiasGelu / FastGelu (bias add + activation).
 * Every bias is folded into the op after its MatMul, so a projection is a bare MatMul and the
 * dtype only changes which MatMul is emitted (MatMul, DynamicQuantizeMatMul or MatMulNBits).
 */
import type { BertConfig } from '../checkpoint/bert-config.js';
import type { BertWeights, Linear, RankingHead } from '../checkpoint/bert-weights.js';
import type { Dtype, Pooling } from '../engine/types.js';
import { quantizeColumnsInt8, quantizeRowsInt8 } from '../quantize/int8.js';
import { quantizeMatMulNBits } from '../quantize/q4.js';
import { GraphBuilder, TensorType } from './graph-builder.js';
import { OUTPUT_EMBEDDING, OUTPUT_HIDDEN, OUTPUT_LOGITS, SHARD_INPUT_HIDDEN, SHARD_OUTPUT_HIDDEN } from './tensor-names.js';

export interface BertGraphOptions {
  dtype: Dtype;
  pooling: Pooling;
  /** q4 only: MatMulNBits block size along K. */
  q4BlockSize?: number;
  /**
   * int8 only: largest quantized weight level. Default 63 ("reduce range"): onnxruntime's u8s8
   * kernels on x86 CPUs without VNNI (AVX2, most cloud VMs) sum pairs of u8*s8 products in int16
   * and saturate with full-range weights -- measured on the fixture: cosine 0.9915 at 127 against
   * 0.9998 at 63. Artifacts are portable, so the safe range is the default.
   */
  int8MaxLevel?: number;
  /** Also expose `last_hidden_state` [batch, seq, hidden] (what Hugging Face tooling expects). */
  exposeHiddenState?: boolean;
  /**
   * A cross-encoder's head: the graph then ends in the pooler (tanh(W h[CLS] + b)) and the
   * classifier, with output `logits` [batch] instead of the sentence embedding (`pooling` unused).
   */
  rankingHead?: RankingHead;
  /**
   * Build only encoder layers [start, end) (a layer shard). A shard that does not start at layer 0
   * takes the previous shard's hidden state (`SHARD_INPUT_HIDDEN`, float32 [batch, seq, hidden]) and
   * `attention_mask` instead of token ids; one that does not end at the last layer outputs its
   * hidden state (`SHARD_OUTPUT_HIDDEN`) instead of the sentence embedding. Every weight is
   * quantized exactly as in the whole graph, so chained shards compute what the whole graph does.
   */
  layerRange?: { start: number; end: number };
}

export { OUTPUT_EMBEDDING, OUTPUT_HIDDEN, OUTPUT_LOGITS, SHARD_INPUT_HIDDEN, SHARD_OUTPUT_HIDDEN };

/** PyTorch Linear weight [out, in] -> MatMul B operand [in, out]. */
function transposed(weights: Float32Array, out: number, inp: number): Float32Array {
  const t = new Float32Array(out * inp);
  for (let o = 0; o < out; o++) {
    const row = o * inp;
    for (let i = 0; i < inp; i++) t[i * out + o] = weights[row + i]!;
  }
  return t;
}

/** Concatenates Q, K and V projections column-wise into one [in, 3*out] operand (one larger GEMM). */
function packedQkv(q: Linear, k: Linear, v: Linear, H: number): { w: Float32Array; bias: Float32Array } {
  const parts = [q, k, v].map((l) => transposed(l.weight.data, H, H));
  const w = new Float32Array(H * 3 * H);
  for (let i = 0; i < H; i++) {
    for (let p = 0; p < 3; p++) w.set(parts[p]!.subarray(i * H, (i + 1) * H), i * 3 * H + p * H);
  }
  const bias = new Float32Array(3 * H);
  bias.set(q.bias.data, 0);
  bias.set(k.bias.data, H);
  bias.set(v.bias.data, 2 * H);
  return { w, bias };
}

export function buildBertGraph(config: BertConfig, weights: BertWeights, options: BertGraphOptions): GraphBuilder {
  const g = new GraphBuilder();
  const H = config.hiddenSize;
  const eps = { float: config.layerNormEps };

  const matmul = (x: string, wKN: Float32Array, K: number, N: number, stem: string): string => {
    switch (options.dtype) {
      case 'fp32':
        return g.node('MatMul', [x, g.initializer(`${stem}.weight`, TensorType.FLOAT, [K, N], wKN)], `${stem}.out`)[0]!;
      case 'int8': {
        const q = quantizeColumnsInt8(wKN, K, N, options.int8MaxLevel ?? 63);
        const b = g.initializer(`${stem}.weight_int8`, TensorType.INT8, [K, N], q.values);
        const s = g.initializer(`${stem}.weight_scale`, TensorType.FLOAT, [N], q.scales);
        return g.msNode('DynamicQuantizeMatMul', [x, b, s], `${stem}.out`)[0]!;
      }
      case 'q4': {
        const q = quantizeMatMulNBits(wKN, K, N, options.q4BlockSize ?? 32);
        const blob = q.blockSize / 2;
        const b = g.initializer(`${stem}.weight_q4`, TensorType.UINT8, [N, q.blocksPerColumn, blob], q.packed);
        const s = g.initializer(`${stem}.weight_scales`, TensorType.FLOAT, [N * q.blocksPerColumn], q.scales);
        const z = g.initializer(`${stem}.weight_zero_points`, TensorType.UINT8, [q.zeroPoints.length], q.zeroPoints);
        return g.msNode('MatMulNBits', [x, b, s, z], `${stem}.out`, { K, N, bits: 4, block_size: q.blockSize })[0]!;
      }
    }
  };
  const linear = (x: string, l: Linear, stem: string): string => {
    const [out, inp] = l.weight.shape as [number, number];
    return matmul(x, transposed(l.weight.data, out, inp), inp, out, stem);
  };
  const vector = (stem: string, data: Float32Array): string => g.initializer(stem, TensorType.FLOAT, [data.length], data);

  const range = options.layerRange ?? { start: 0, end: config.numLayers };
  if (!Number.isInteger(range.start) || !Number.isInteger(range.end) || range.start < 0 || range.end > config.numLayers || range.start >= range.end) {
    throw new RangeError(`layer range [${range.start}, ${range.end}) is not a non-empty range within the model's ${config.numLayers} layers`);
  }
  const first = range.start === 0;
  const last = range.end === config.numLayers;

  let attentionMask: string;
  let hidden: string;
  if (first) {
    // Inputs: the names and int64 type Hugging Face exports use, so other tooling can feed the graph.
    const inputIds = g.input('input_ids', TensorType.INT64, ['batch', 'sequence']);
    attentionMask = g.input('attention_mask', TensorType.INT64, ['batch', 'sequence']);
    const tokenTypeIds = g.input('token_type_ids', TensorType.INT64, ['batch', 'sequence']);

    // Embeddings: word + position + token type, then LayerNorm (folded into SkipLayerNormalization).
    let words: string;
    if (options.dtype === 'fp32') {
      const table = g.initializer('word_embeddings', TensorType.FLOAT, [config.vocabSize, H], weights.wordEmbeddings.data);
      words = g.node('Gather', [table, inputIds], 'word_embedded')[0]!;
    } else {
      // 8-bit table with one scale per token row: gathered rows are dequantized after the Gather,
      // so the 21128 x H table never exists in fp32 at run time (a large part of the memory budget).
      const q = quantizeRowsInt8(weights.wordEmbeddings.data, config.vocabSize, H);
      const table = g.initializer('word_embeddings_int8', TensorType.INT8, [config.vocabSize, H], q.values);
      const scales = g.initializer('word_embeddings_scale', TensorType.FLOAT, [config.vocabSize, 1], q.scales);
      const rows = g.node('Gather', [table, inputIds], 'word_rows_int8')[0]!;
      const rowScales = g.node('Gather', [scales, inputIds], 'word_row_scales')[0]!;
      const rowsFloat = g.node('Cast', [rows], 'word_rows', { to: TensorType.FLOAT })[0]!;
      words = g.node('Mul', [rowsFloat, rowScales], 'word_embedded')[0]!;
    }
    const shape = g.node('Shape', [inputIds], 'input_shape')[0]!;
    const seqLen = g.node('Gather', [shape, g.scalarInt64('one', 1)], 'sequence_length', { axis: 0 })[0]!;
    const positions = g.node('Range', [g.scalarInt64('zero', 0), seqLen, g.scalarInt64('step', 1)], 'position_ids')[0]!;
    const posTable = g.initializer('position_embeddings', TensorType.FLOAT, [config.maxPositions, H], weights.positionEmbeddings.data);
    const posEmbedded = g.node('Gather', [posTable, positions], 'position_embedded')[0]!;
    const typeTable = g.initializer('token_type_embeddings', TensorType.FLOAT, [config.typeVocabSize, H], weights.tokenTypeEmbeddings.data);
    const typeEmbedded = g.node('Gather', [typeTable, tokenTypeIds], 'token_type_embedded')[0]!;
    const wordsAndTypes = g.node('Add', [words, typeEmbedded], 'word_type_sum')[0]!;
    hidden = g.msNode(
      'SkipLayerNormalization',
      [wordsAndTypes, posEmbedded, vector('embeddings.ln.gamma', weights.embeddingNorm.gamma.data), vector('embeddings.ln.beta', weights.embeddingNorm.beta.data)],
      'embeddings',
      { epsilon: eps },
    )[0]!;
  } else {
    hidden = g.input(SHARD_INPUT_HIDDEN, TensorType.FLOAT, ['batch', 'sequence', H]);
    attentionMask = g.input('attention_mask', TensorType.INT64, ['batch', 'sequence']);
  }

  // Key padding mask: 1 = attend, 0 = padding.
  const mask = g.node('Cast', [attentionMask], 'key_padding_mask', { to: TensorType.INT32 })[0]!;
  const splitSizes = g.int64s('qkv_split', [H, H, H]);

  weights.layers.forEach((layer, i) => {
    if (i < range.start || i >= range.end) return;
    const p = `layer${i}`;
    const qkv = packedQkv(layer.query, layer.key, layer.value, H);
    const projected = matmul(hidden, qkv.w, H, 3 * H, `${p}.qkv`);
    const [q, k, v] = g.node('Split', [projected, splitSizes], [`${p}.q`, `${p}.k`, `${p}.v`], { axis: 2 });
    const context = g.msNode('MultiHeadAttention', [q!, k!, v!, vector(`${p}.qkv.bias`, qkv.bias), mask], `${p}.context`, {
      num_heads: config.numHeads,
    })[0]!;
    const attnOut = linear(context, layer.attentionOutput, `${p}.attn_out`);
    hidden = g.msNode(
      'SkipLayerNormalization',
      [
        attnOut,
        hidden,
        vector(`${p}.attn_ln.gamma`, layer.attentionNorm.gamma.data),
        vector(`${p}.attn_ln.beta`, layer.attentionNorm.beta.data),
        vector(`${p}.attn_out.bias`, layer.attentionOutput.bias.data),
      ],
      `${p}.attn_hidden`,
      { epsilon: eps },
    )[0]!;
    const inter = linear(hidden, layer.intermediate, `${p}.ffn_in`);
    const interBias = vector(`${p}.ffn_in.bias`, layer.intermediate.bias.data);
    let activated: string;
    if (config.hiddenAct === 'gelu') activated = g.msNode('BiasGelu', [inter, interBias], `${p}.gelu`)[0]!;
    else if (config.hiddenAct === 'gelu_tanh') activated = g.msNode('FastGelu', [inter, interBias], `${p}.gelu`)[0]!;
    else activated = g.node('Relu', [g.node('Add', [inter, interBias], `${p}.ffn_in.biased`)[0]!], `${p}.relu`)[0]!;
    const ffnOut = linear(activated, layer.output, `${p}.ffn_out`);
    hidden = g.msNode(
      'SkipLayerNormalization',
      [
        ffnOut,
        hidden,
        vector(`${p}.out_ln.gamma`, layer.outputNorm.gamma.data),
        vector(`${p}.out_ln.beta`, layer.outputNorm.beta.data),
        vector(`${p}.ffn_out.bias`, layer.output.bias.data),
      ],
      `${p}.hidden`,
      { epsilon: eps },
    )[0]!;
  });

  if (!last) {
    g.rename(hidden, SHARD_OUTPUT_HIDDEN);
    g.output(SHARD_OUTPUT_HIDDEN, TensorType.FLOAT, ['batch', 'sequence', H]);
    return g;
  }

  if (options.rankingHead) {
    const head = options.rankingHead;
    const cls = g.node('Gather', [hidden, g.scalarInt64('cls_index', 0)], 'cls', { axis: 1 })[0]!;
    // The pooler's projection is quantized like every encoder MatMul; the classifier (hidden x 1)
    // stays fp32: it is a few hundred bytes and the last rounding before the score.
    const pooledLinear = linear(cls, head.pooler, 'pooler');
    const pooledBiased = g.node('Add', [pooledLinear, vector('pooler.bias', head.pooler.bias.data)], 'pooler.biased')[0]!;
    const pooledTanh = g.node('Tanh', [pooledBiased], 'pooled')[0]!;
    const classifierW = g.initializer('classifier.weight', TensorType.FLOAT, [H, 1], Float32Array.from(head.classifier.weight.data));
    const scored = g.node('MatMul', [pooledTanh, classifierW], 'classifier.out')[0]!;
    const biased = g.node('Add', [scored, vector('classifier.bias', head.classifier.bias.data)], 'classifier.biased')[0]!;
    const logits = g.node('Reshape', [biased, g.int64s('logits_shape', [-1])], 'logits_flat')[0]!;
    g.rename(logits, OUTPUT_LOGITS);
    g.output(OUTPUT_LOGITS, TensorType.FLOAT, ['batch']);
    if (options.exposeHiddenState === true) {
      g.node('Identity', [hidden], OUTPUT_HIDDEN);
      g.output(OUTPUT_HIDDEN, TensorType.FLOAT, ['batch', 'sequence', H]);
    }
    return g;
  }

  let pooled: string;
  if (options.pooling === 'cls') {
    // coROM (ModelScope's sentence-embedding pipeline) takes the raw last-layer [CLS] row.
    pooled = g.node('Gather', [hidden, g.scalarInt64('cls_index', 0)], 'cls', { axis: 1 })[0]!;
  } else {
    // Mean over real tokens only: sum(h * m) / max(sum(m), 1e-9), as sentence-transformers does.
    const m = g.node('Cast', [g.node('Unsqueeze', [attentionMask, g.int64s('unsqueeze_axes', [2])], 'mask3d')[0]!], 'mask3d_float', {
      to: TensorType.FLOAT,
    })[0]!;
    const axis1 = g.int64s('sum_axes', [1]);
    const summed = g.node('ReduceSum', [g.node('Mul', [hidden, m], 'masked_hidden')[0]!, axis1], 'hidden_sum', { keepdims: 0 })[0]!;
    const counts = g.node('ReduceSum', [m, axis1], 'token_count', { keepdims: 0 })[0]!;
    const safe = g.node('Max', [counts, g.initializer('min_count', TensorType.FLOAT, [], Float32Array.of(1e-9))], 'token_count_safe')[0]!;
    pooled = g.node('Div', [summed, safe], 'mean')[0]!;
  }
  g.rename(pooled, OUTPUT_EMBEDDING);
  g.output(OUTPUT_EMBEDDING, TensorType.FLOAT, ['batch', H]);
  if (options.exposeHiddenState !== false) {
    g.node('Identity', [hidden], OUTPUT_HIDDEN);
    g.output(OUTPUT_HIDDEN, TensorType.FLOAT, ['batch', 'sequence', H]);
  }
  return g;
}
