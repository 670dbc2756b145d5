/**
 * transformers.js (@huggingface/transformers) as the comparison point: its feature-extraction
 * pipeline with CLS pooling, loading the very ONNX files our converter wrote, from disk, with the
 * same thread count. A folder in its expected layout is made with symlinks to our files.
 */
import { mkdir, readFile, symlink, writeFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { tokenizerJson } from '../lib/transformers-js-bert.js';

export async function transformersJsFolder(converted: string, workDir: string, maxLength: number): Promise<string> {
  await writeTransformersJsFolder(converted, join(workDir, 'transformers-js', 'corom'), maxLength, { model_type: 'bert' });
  return join(workDir, 'transformers-js');
}

/**
 * `dir`, emptied, as a model folder in transformers.js' layout for our converted model: its
 * config.json with `config` laid over, the tokenizer files built from its vocab.txt, and
 * onnx/model.onnx and onnx/model_quantized.onnx as symlinks to its fp32 and int8 files.
 */
export async function writeTransformersJsFolder(converted: string, dir: string, maxLength: number, config: Record<string, unknown>): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(join(dir, 'onnx'), { recursive: true });
  const own = JSON.parse(await readFile(join(converted, 'config.json'), 'utf8'));
  await writeFile(join(dir, 'config.json'), JSON.stringify({ ...own, ...config }));
  const vocab = await readFile(join(converted, 'vocab.txt'), 'utf8');
  await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(tokenizerJson(vocab)));
  await writeFile(
    join(dir, 'tokenizer_config.json'),
    JSON.stringify({ tokenizer_class: 'BertTokenizer', do_lower_case: true, model_max_length: maxLength, cls_token: '[CLS]', sep_token: '[SEP]', pad_token: '[PAD]', unk_token: '[UNK]', mask_token: '[MASK]' }),
  );
  await symlink(resolve(converted, 'model.fp32.onnx'), join(dir, 'onnx', 'model.onnx'));
  await symlink(resolve(converted, 'model.int8.onnx'), join(dir, 'onnx', 'model_quantized.onnx'));
}

/** transformers.js, set to load models only from the folders under `root`, never from the network. */
export async function localTransformersJs(root: string): Promise<typeof import('@huggingface/transformers')> {
  const tjs = await import('@huggingface/transformers');
  tjs.env.allowRemoteModels = false;
  tjs.env.allowLocalModels = true;
  tjs.env.localModelPath = root + '/';
  return tjs;
}

/** How both comparisons load a model: our file for the dtype, on the CPU, with our thread count. */
export function transformersJsLoadOptions(dtype: 'fp32' | 'int8', threads: number) {
  return {
    dtype: dtype === 'fp32' ? 'fp32' : 'q8',
    device: 'cpu',
    session_options: { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' },
  } as const;
}

export interface TransformersJsEmbedder {
  embed(texts: string[]): Promise<unknown>;
  dispose(): Promise<void>;
}

export async function loadTransformersJs(root: string, dtype: 'fp32' | 'int8', threads: number): Promise<TransformersJsEmbedder> {
  const tjs = await localTransformersJs(root);
  const extractor = await tjs.pipeline('feature-extraction', 'corom', transformersJsLoadOptions(dtype, threads) as Parameters<typeof tjs.pipeline>[2]);
  return {
    embed: (texts) => extractor(texts, { pooling: 'cls', normalize: false }),
    dispose: () => extractor.dispose(),
  };
}
