/**
 * Writes a BERT checkpoint folder with random weights of any shape (config.json, model.safetensors,
 * vocab.txt): coROM-base-shaped for speed and memory measurements (same shapes, same cost as the
 * real model), or small and oddly shaped for tests proving nothing is hard-wired. Random weights
 * carry no meaning: never assert semantic orderings on them.
 */
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BertConfig } from '../../src/checkpoint/bert-config.js';

/**
 * The sizes a random checkpoint is written with: the converter's own BertConfig fields (what it
 * will read back from config.json). Token types default to 2; `hiddenAct` is written as given, so
 * a test may name any activation, supported or not.
 */
export type RandomBertShape = Pick<BertConfig, 'vocabSize' | 'hiddenSize' | 'numLayers' | 'numHeads' | 'intermediateSize' | 'maxPositions'> &
  Partial<Pick<BertConfig, 'typeVocabSize'>> & { hiddenAct?: string };

export const COROM_BASE_SHAPE: RandomBertShape = {
  vocabSize: 21128,
  hiddenSize: 768,
  numLayers: 12,
  numHeads: 12,
  intermediateSize: 3072,
  maxPositions: 512,
};

/** A small BERT (MiniLM-like) sharing coROM's vocabulary: what an edge isolate can hold. */
export const SMALL_SHAPE: RandomBertShape = {
  vocabSize: 21128,
  hiddenSize: 384,
  numLayers: 6,
  numHeads: 12,
  intermediateSize: 1536,
  maxPositions: 512,
};

/** Deterministic xorshift32 normal-ish generator (sum of uniforms), so runs are repeatable. */
function generator(seed: number): () => number {
  let s = seed >>> 0 || 1;
  const u = (): number => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
  return () => (u() + u() + u() + u() - 2) * 1.7320508;
}

export async function writeRandomBert(
  dir: string,
  shape: RandomBertShape,
  options: {
    vocabFile: string;
    seed?: number;
    std?: number;
    prefix?: string;
    extraTensors?: boolean;
    /**
     * A cross-encoder ranker: pooler + top-level `classifier.weight` [1, hidden] / `classifier.bias`,
     * config.json `architectures` [architecture] (default BertForSequenceClassification) and
     * `num_labels` 1. `classifier: false` leaves the classifier out (a broken ranking checkpoint).
     */
    ranking?: { architecture?: string; classifier?: boolean };
  },
): Promise<void> {
  await mkdir(dir, { recursive: true });
  const rand = generator(options.seed ?? 1234);
  const std = options.std ?? 0.05;
  const prefix = options.prefix ?? 'bert.';
  const H = shape.hiddenSize;
  const tensors: [string, number[], 'normal' | 'ones' | 'zeros'][] = [
    ['embeddings.word_embeddings.weight', [shape.vocabSize, H], 'normal'],
    ['embeddings.position_embeddings.weight', [shape.maxPositions, H], 'normal'],
    ['embeddings.token_type_embeddings.weight', [shape.typeVocabSize ?? 2, H], 'normal'],
    ['embeddings.LayerNorm.weight', [H], 'ones'],
    ['embeddings.LayerNorm.bias', [H], 'zeros'],
  ];
  for (let i = 0; i < shape.numLayers; i++) {
    const p = `encoder.layer.${i}`;
    for (const n of ['query', 'key', 'value']) {
      tensors.push([`${p}.attention.self.${n}.weight`, [H, H], 'normal'], [`${p}.attention.self.${n}.bias`, [H], 'normal']);
    }
    tensors.push(
      [`${p}.attention.output.dense.weight`, [H, H], 'normal'],
      [`${p}.attention.output.dense.bias`, [H], 'normal'],
      [`${p}.attention.output.LayerNorm.weight`, [H], 'ones'],
      [`${p}.attention.output.LayerNorm.bias`, [H], 'zeros'],
      [`${p}.intermediate.dense.weight`, [shape.intermediateSize, H], 'normal'],
      [`${p}.intermediate.dense.bias`, [shape.intermediateSize], 'normal'],
      [`${p}.output.dense.weight`, [H, shape.intermediateSize], 'normal'],
      [`${p}.output.dense.bias`, [H], 'normal'],
      [`${p}.output.LayerNorm.weight`, [H], 'ones'],
      [`${p}.output.LayerNorm.bias`, [H], 'zeros'],
    );
  }
  if (options.extraTensors || options.ranking) tensors.push(['pooler.dense.weight', [H, H], 'normal'], ['pooler.dense.bias', [H], 'normal']);
  // Hugging Face and ModelScope keep the classifier outside the encoder's prefix.
  const topLevel = new Set<string>();
  if (options.ranking && options.ranking.classifier !== false) {
    tensors.push(['classifier.weight', [1, H], 'normal'], ['classifier.bias', [1], 'normal']);
    topLevel.add('classifier.weight').add('classifier.bias');
  }

  const header: Record<string, unknown> = {};
  let offset = 0;
  const datas: Float32Array[] = [];
  for (const [name, dims, init] of tensors) {
    const n = dims.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    if (init === 'ones') data.fill(1);
    else if (init === 'normal') for (let i = 0; i < n; i++) data[i] = rand() * std;
    header[topLevel.has(name) ? name : prefix + name] = { dtype: 'F32', shape: dims, data_offsets: [offset, offset + n * 4] };
    offset += n * 4;
    datas.push(data);
  }
  let headerJson = JSON.stringify(header);
  headerJson += ' '.repeat((8 - (headerJson.length % 8)) % 8); // keep tensor data 8-byte aligned
  const headerBytes = new TextEncoder().encode(headerJson);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const d of datas) {
    out.set(new Uint8Array(d.buffer), at);
    at += d.byteLength;
  }
  await writeFile(join(dir, 'model.safetensors'), out);
  await writeFile(
    join(dir, 'config.json'),
    JSON.stringify(
      {
        architectures: [options.ranking ? (options.ranking.architecture ?? 'BertForSequenceClassification') : 'BertModel'],
        ...(options.ranking ? { num_labels: 1 } : {}),
        model_type: 'bert',
        vocab_size: shape.vocabSize,
        hidden_size: H,
        num_hidden_layers: shape.numLayers,
        num_attention_heads: shape.numHeads,
        intermediate_size: shape.intermediateSize,
        max_position_embeddings: shape.maxPositions,
        type_vocab_size: shape.typeVocabSize ?? 2,
        hidden_act: shape.hiddenAct ?? 'gelu',
        layer_norm_eps: 1e-12,
      },
      null,
      2,
    ),
  );
  await copyFile(options.vocabFile, join(dir, 'vocab.txt'));
}
