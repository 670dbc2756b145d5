/**
 * The BERT hyper-parameters the converter needs, read from a Hugging Face / ModelScope config.json.
 * Nothing downstream is hard-wired to coROM-base's sizes: every shape comes from here.
 */
import { ModelFileError } from '../errors.js';

export type HiddenAct = 'gelu' | 'gelu_tanh' | 'relu';

export interface BertConfig {
  vocabSize: number;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  intermediateSize: number;
  maxPositions: number;
  typeVocabSize: number;
  layerNormEps: number;
  hiddenAct: HiddenAct;
}

const ACTIVATIONS: Record<string, HiddenAct> = {
  gelu: 'gelu',
  gelu_python: 'gelu',
  gelu_new: 'gelu_tanh',
  gelu_fast: 'gelu_tanh',
  gelu_pytorch_tanh: 'gelu_tanh',
  relu: 'relu',
};

/** BERT-family model types whose encoder is exactly BertModel's (absolute positions from 0). */
const BERT_MODEL_TYPES = new Set(['bert', 'structbert', 'corom']);

export function parseBertConfig(raw: unknown, file: string): BertConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ModelFileError(file, 'must be a JSON object');
  const c = raw as Record<string, unknown>;
  const modelType = c.model_type;
  const archs = Array.isArray(c.architectures) ? c.architectures.map(String) : [];
  const looksBert = typeof modelType === 'string' ? BERT_MODEL_TYPES.has(modelType.toLowerCase()) : archs.some((a) => /^Bert/i.test(a));
  if (!looksBert) {
    const what = typeof modelType === 'string' ? `model_type "${modelType}"` : archs.length ? `architectures ${archs.join(', ')}` : 'no model_type';
    throw new ModelFileError(file, `unsupported architecture (${what}); only BERT encoders (model_type "bert") are supported`);
  }
  const int = (key: string, fallback?: number): number => {
    const v = c[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
      throw new ModelFileError(file, v === undefined ? `missing "${key}"` : `"${key}" must be a positive integer, got ${JSON.stringify(v)}`);
    }
    return v;
  };
  const hiddenSize = int('hidden_size');
  const numHeads = int('num_attention_heads');
  if (hiddenSize % numHeads !== 0) {
    throw new ModelFileError(file, `hidden_size ${hiddenSize} is not divisible by num_attention_heads ${numHeads}`);
  }
  const actName = typeof c.hidden_act === 'string' ? c.hidden_act : 'gelu';
  const hiddenAct = ACTIVATIONS[actName];
  if (!hiddenAct) throw new ModelFileError(file, `unsupported hidden_act "${actName}" (supported: ${Object.keys(ACTIVATIONS).join(', ')})`);
  const eps = c.layer_norm_eps ?? 1e-12;
  if (typeof eps !== 'number' || !(eps > 0)) throw new ModelFileError(file, `"layer_norm_eps" must be a positive number`);
  if (c.position_embedding_type !== undefined && c.position_embedding_type !== 'absolute') {
    throw new ModelFileError(file, `unsupported position_embedding_type "${String(c.position_embedding_type)}" (only "absolute")`);
  }
  return {
    vocabSize: int('vocab_size'),
    hiddenSize,
    numLayers: int('num_hidden_layers'),
    numHeads,
    intermediateSize: int('intermediate_size'),
    maxPositions: int('max_position_embeddings', 512),
    typeVocabSize: int('type_vocab_size', 2),
    layerNormEps: eps,
    hiddenAct,
  };
}
