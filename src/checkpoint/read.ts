/**
 * Reads a checkpoint folder (ModelScope or Hugging Face layout): config.json plus
 * model.safetensors (preferred) or pytorch_model.bin.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ModelFileError } from '../errors.js';
import { parseBertConfig, type BertConfig } from './bert-config.js';
import { extractBertWeights, extractRankingHead, isEncoderTensor, isRankingTensor, type BertWeights, type RankingHead } from './bert-weights.js';
import type { ModelKind } from '../engine/types.js';
import { readPytorchCheckpoint } from './pytorch.js';
import { readSafetensors } from './safetensors.js';

export const WEIGHT_FILES = ['model.safetensors', 'pytorch_model.bin'] as const;

export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

export async function readJsonFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ModelFileError(path, code === 'ENOENT' ? 'file not found' : `cannot read (${code ?? String(err)})`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ModelFileError(path, `invalid JSON (${(err as Error).message})`);
  }
}

export async function readBertConfig(dir: string): Promise<BertConfig> {
  const file = join(dir, 'config.json');
  return parseBertConfig(await readJsonFile(file), file);
}

export interface Checkpoint {
  config: BertConfig;
  weights: BertWeights;
  weightFile: string;
  /** The pooler and classifier, read only when the checkpoint is read as a ranker. */
  head?: RankingHead;
}

/** `kind` 'rerank' also reads (and requires) the pooler and classifier. */
export async function readCheckpoint(dir: string, kind: ModelKind = 'embedding'): Promise<Checkpoint> {
  if (!(await exists(dir))) throw new ModelFileError(dir, 'model folder not found');
  const config = await readBertConfig(dir);
  for (const name of WEIGHT_FILES) {
    const file = join(dir, name);
    if (!(await exists(file))) continue;
    const bytes = new Uint8Array(await readFile(file));
    const wanted = kind === 'rerank' ? isRankingTensor : isEncoderTensor;
    const state = name.endsWith('.safetensors') ? readSafetensors(bytes, file, wanted) : readPytorchCheckpoint(bytes, file, wanted);
    const weights = extractBertWeights(state, config, file);
    return kind === 'rerank' ? { config, weights, weightFile: file, head: extractRankingHead(state, config, file) } : { config, weights, weightFile: file };
  }
  throw new ModelFileError(dir, `no weights found (expected ${WEIGHT_FILES.join(' or ')})`);
}
