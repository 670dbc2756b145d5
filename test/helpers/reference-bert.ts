/**
 * A plain-loop BERT forward pass in TypeScript, written from the Hugging Face BertModel equations
 * independently of the ONNX graph, used to check the converter on shapes the fixture does not
 * cover. Slow on purpose-free clarity; only for tiny models.
 */
import type { BertConfig } from '../../src/checkpoint/bert-config.js';
import type { BertWeights, Linear, Norm, RankingHead } from '../../src/checkpoint/bert-weights.js';

function linear(x: Float64Array[], l: Linear): Float64Array[] {
  const [out, inp] = l.weight.shape as [number, number];
  return x.map((row) => {
    const y = new Float64Array(out);
    for (let o = 0; o < out; o++) {
      let s = l.bias.data[o]!;
      for (let i = 0; i < inp; i++) s += row[i]! * l.weight.data[o * inp + i]!;
      y[o] = s;
    }
    return y;
  });
}

function layerNorm(x: Float64Array[], n: Norm, eps: number): Float64Array[] {
  return x.map((row) => {
    const H = row.length;
    let mean = 0;
    for (const v of row) mean += v;
    mean /= H;
    let variance = 0;
    for (const v of row) variance += (v - mean) ** 2;
    variance /= H;
    const inv = 1 / Math.sqrt(variance + eps);
    return row.map((v, i) => (v - mean) * inv * n.gamma.data[i]! + n.beta.data[i]!);
  });
}

function erf(x: number): number {
  // Abramowitz-Stegun 7.1.26 is too coarse for 1e-4 checks; use a series/continued fraction split.
  const t = Math.abs(x);
  if (t < 2.5) {
    let sum = t;
    let term = t;
    for (let n = 1; n < 60; n++) {
      term *= (-t * t) / n;
      sum += term / (2 * n + 1);
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc continued fraction for large |x|
  let f = 0;
  for (let n = 60; n >= 1; n--) f = n / 2 / (t + f);
  const erfc = Math.exp(-t * t) / Math.sqrt(Math.PI) / (t + f);
  return Math.sign(x) * (1 - erfc);
}

function activation(v: number, act: BertConfig['hiddenAct']): number {
  if (act === 'relu') return Math.max(0, v);
  if (act === 'gelu_tanh') return 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
  return 0.5 * v * (1 + erf(v / Math.SQRT2));
}

/** Pooled embedding of one unpadded sequence. */
export function referenceEmbedding(config: BertConfig, w: BertWeights, ids: readonly number[], pooling: 'cls' | 'mean'): Float64Array {
  const x = referenceHidden(config, w, ids, ids.map(() => 0));
  if (pooling === 'cls') return x[0]!;
  const H = config.hiddenSize;
  const S = ids.length;
  const mean = new Float64Array(H);
  for (const row of x) for (let c = 0; c < H; c++) mean[c]! += row[c]! / S;
  return mean;
}

/**
 * A cross-encoder's logit for one unpadded pair, as BertForSequenceClassification computes it:
 * pooled = tanh(W_pool h[CLS] + b_pool), logit = w_cls . pooled + b_cls.
 */
export function referenceRankingLogit(config: BertConfig, w: BertWeights, head: RankingHead, ids: readonly number[], typeIds: readonly number[]): number {
  const cls = referenceHidden(config, w, ids, typeIds)[0]!;
  const pooled = linear([cls], head.pooler)[0]!.map(Math.tanh);
  return linear([pooled], head.classifier)[0]![0]!;
}

/** Last hidden layer of one unpadded sequence with its token type ids. */
export function referenceHidden(config: BertConfig, w: BertWeights, ids: readonly number[], typeIds: readonly number[]): Float64Array[] {
  const H = config.hiddenSize;
  const S = ids.length;
  const heads = config.numHeads;
  const d = H / heads;
  let x: Float64Array[] = ids.map((id, pos) => {
    const row = new Float64Array(H);
    for (let i = 0; i < H; i++) {
      row[i] = w.wordEmbeddings.data[id * H + i]! + w.positionEmbeddings.data[pos * H + i]! + w.tokenTypeEmbeddings.data[typeIds[pos]! * H + i]!;
    }
    return row;
  });
  x = layerNorm(x, w.embeddingNorm, config.layerNormEps);
  for (const layer of w.layers) {
    const q = linear(x, layer.query);
    const k = linear(x, layer.key);
    const v = linear(x, layer.value);
    const ctx = x.map(() => new Float64Array(H));
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < S; i++) {
        const scores = new Float64Array(S);
        let max = -Infinity;
        for (let j = 0; j < S; j++) {
          let s = 0;
          for (let c = 0; c < d; c++) s += q[i]![h * d + c]! * k[j]![h * d + c]!;
          scores[j] = s / Math.sqrt(d);
          max = Math.max(max, scores[j]!);
        }
        let total = 0;
        for (let j = 0; j < S; j++) total += scores[j] = Math.exp(scores[j]! - max);
        for (let j = 0; j < S; j++) for (let c = 0; c < d; c++) ctx[i]![h * d + c]! += (scores[j]! / total) * v[j]![h * d + c]!;
      }
    }
    const attn = linear(ctx, layer.attentionOutput);
    x = layerNorm(attn.map((row, i) => row.map((val, c) => val + x[i]![c]!)), layer.attentionNorm, config.layerNormEps);
    const inter = linear(x, layer.intermediate).map((row) => row.map((val) => activation(val, config.hiddenAct)));
    const out = linear(inter, layer.output);
    x = layerNorm(out.map((row, i) => row.map((val, c) => val + x[i]![c]!)), layer.outputNorm, config.layerNormEps);
  }
  return x;
}
