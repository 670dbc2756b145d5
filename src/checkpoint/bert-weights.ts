/**
 * Picks the BERT encoder's tensors out of a state dict, whatever the prefix (`bert.`, none, ...),
 * checks every shape against the config, and ignores what a sentence-embedding model does not use
 * (pooler, position_ids, MLM/NSP heads).
 */
import { ModelFileError } from '../errors.js';
import type { BertConfig } from './bert-config.js';
import type { Float32Tensor, StateDict } from './tensor.js';

export interface LayerWeights {
  query: Linear;
  key: Linear;
  value: Linear;
  attentionOutput: Linear;
  attentionNorm: Norm;
  intermediate: Linear;
  output: Linear;
  outputNorm: Norm;
}

/** A PyTorch nn.Linear: weight [out, in], bias [out]. */
export interface Linear {
  weight: Float32Tensor;
  bias: Float32Tensor;
}

export interface Norm {
  gamma: Float32Tensor;
  beta: Float32Tensor;
}

export interface BertWeights {
  wordEmbeddings: Float32Tensor;
  positionEmbeddings: Float32Tensor;
  tokenTypeEmbeddings: Float32Tensor;
  embeddingNorm: Norm;
  layers: LayerWeights[];
}

const WORD_KEY = 'embeddings.word_embeddings.weight';

/** The head of a text-ranking cross-encoder (ModelScope's BertForTextRanking, HF's BertForSequenceClassification, 1 label). */
export interface RankingHead {
  /** BertPooler: pooled = tanh(W h[CLS] + b), [hidden, hidden]. */
  pooler: Linear;
  /** Linear(hidden, 1): the relevance logit. */
  classifier: Linear;
}

/** Only tensors under the encoder's prefix are worth reading from disk. */
export function isEncoderTensor(name: string): boolean {
  return /(^|\.)(embeddings|encoder)\./.test(name) && !name.endsWith('position_ids');
}

/** What a cross-encoder needs from disk: the encoder, the pooler and the classifier. */
export function isRankingTensor(name: string): boolean {
  return isEncoderTensor(name) || /(^|\.)(pooler\.dense|classifier)\.(weight|bias)$/.test(name);
}

/**
 * The pooler and classifier of a ranking checkpoint: `<prefix>pooler.dense.*` beside the encoder
 * (`bert.` or none) and `classifier.*` at the top level (or under the encoder's prefix).
 */
export function extractRankingHead(state: StateDict, config: BertConfig, file: string): RankingHead {
  const wordKey = [...state.keys()].find((k) => k === WORD_KEY || k.endsWith('.' + WORD_KEY));
  const prefix = wordKey ? wordKey.slice(0, -WORD_KEY.length) : '';
  const H = config.hiddenSize;
  const get = (names: string[], shape: number[], why: string): Float32Tensor => {
    const name = names.find((n) => state.has(n));
    if (!name) throw new ModelFileError(file, `missing tensor ${names[0]} (${why})`);
    const t = state.get(name)!;
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new ModelFileError(file, `tensor ${name} has shape [${t.shape}] but a ranking model with hidden_size ${H} needs [${shape}]`);
    }
    return t;
  };
  const classifierWhy = 'a text-ranking model needs its classifier Linear(hidden, 1)';
  const poolerWhy = 'a text-ranking model scores tanh(W h[CLS] + b) with the BERT pooler';
  return {
    pooler: {
      weight: get([`${prefix}pooler.dense.weight`], [H, H], poolerWhy),
      bias: get([`${prefix}pooler.dense.bias`], [H], poolerWhy),
    },
    classifier: {
      weight: get(['classifier.weight', `${prefix}classifier.weight`], [1, H], classifierWhy),
      bias: get(['classifier.bias', `${prefix}classifier.bias`], [1], classifierWhy),
    },
  };
}

export function extractBertWeights(state: StateDict, config: BertConfig, file: string): BertWeights {
  const wordKey = [...state.keys()].find((k) => k === WORD_KEY || k.endsWith('.' + WORD_KEY));
  if (!wordKey) throw new ModelFileError(file, `missing tensor ${WORD_KEY} (is this a BERT checkpoint?)`);
  const prefix = wordKey.slice(0, -WORD_KEY.length);
  const H = config.hiddenSize;

  const get = (name: string, shape: number[], alt?: string): Float32Tensor => {
    const t = state.get(prefix + name) ?? (alt ? state.get(prefix + alt) : undefined);
    if (!t) throw new ModelFileError(file, `missing tensor ${prefix}${name}`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new ModelFileError(file, `tensor ${prefix}${name} has shape [${t.shape}] but config.json implies [${shape}]`);
    }
    return t;
  };
  const linear = (name: string, out: number, inp: number): Linear => ({
    weight: get(`${name}.weight`, [out, inp]),
    bias: get(`${name}.bias`, [out]),
  });
  // Checkpoints converted from TensorFlow name LayerNorm parameters gamma/beta.
  const norm = (name: string): Norm => ({
    gamma: get(`${name}.weight`, [H], `${name}.gamma`),
    beta: get(`${name}.bias`, [H], `${name}.beta`),
  });

  const layers: LayerWeights[] = [];
  for (let i = 0; i < config.numLayers; i++) {
    const p = `encoder.layer.${i}`;
    layers.push({
      query: linear(`${p}.attention.self.query`, H, H),
      key: linear(`${p}.attention.self.key`, H, H),
      value: linear(`${p}.attention.self.value`, H, H),
      attentionOutput: linear(`${p}.attention.output.dense`, H, H),
      attentionNorm: norm(`${p}.attention.output.LayerNorm`),
      intermediate: linear(`${p}.intermediate.dense`, config.intermediateSize, H),
      output: linear(`${p}.output.dense`, H, config.intermediateSize),
      outputNorm: norm(`${p}.output.LayerNorm`),
    });
  }
  if (state.has(`${prefix}encoder.layer.${config.numLayers}.attention.self.query.weight`)) {
    throw new ModelFileError(file, `checkpoint has more layers than num_hidden_layers=${config.numLayers} in config.json`);
  }
  return {
    wordEmbeddings: get('embeddings.word_embeddings.weight', [config.vocabSize, H]),
    positionEmbeddings: get('embeddings.position_embeddings.weight', [config.maxPositions, H]),
    tokenTypeEmbeddings: get('embeddings.token_type_embeddings.weight', [config.typeVocabSize, H]),
    embeddingNorm: norm('embeddings.LayerNorm'),
    layers,
  };
}
