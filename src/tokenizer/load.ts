/**
 * Loads a WordPieceTokenizer from a model folder (Node): vocab.txt (required), and the optional
 * tokenizer_config.json / special_tokens_map.json whose BERT settings HF's BertTokenizer honours.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ModelFileError } from '../errors.js';
import { WordPieceTokenizer, type SpecialTokenNames, type WordPieceOptions } from './wordpiece.js';

const SPECIAL_KEYS: Record<keyof SpecialTokenNames, string> = {
  unk: 'unk_token',
  cls: 'cls_token',
  sep: 'sep_token',
  pad: 'pad_token',
  mask: 'mask_token',
};

export async function loadTokenizer(dir: string): Promise<WordPieceTokenizer> {
  const vocabPath = join(dir, 'vocab.txt');
  const vocabBytes = await readModelFile(vocabPath, true);
  let vocabText: string;
  try {
    vocabText = new TextDecoder('utf-8', { fatal: true }).decode(vocabBytes!);
  } catch (cause) {
    throw new ModelFileError(vocabPath, 'is not valid UTF-8 text', { cause });
  }
  const options: WordPieceOptions = { source: vocabPath, ...(await readTokenizerConfig(dir)) };
  const specialsPath = join(dir, 'special_tokens_map.json');
  const specialsMap = await readJsonObject(specialsPath);
  if (specialsMap !== undefined) {
    // HF lets special_tokens_map.json override the special tokens of tokenizer_config.json.
    options.specialTokens = { ...options.specialTokens, ...specialTokenNames(specialsMap, specialsPath) };
  }
  return WordPieceTokenizer.fromVocabText(vocabText, options);
}

/** The WordPieceOptions a tokenizer_config.json asks for ({} when the folder has none). */
export async function readTokenizerConfig(dir: string): Promise<WordPieceOptions> {
  const path = join(dir, 'tokenizer_config.json');
  const config = await readJsonObject(path);
  if (config === undefined) return {};
  const options: WordPieceOptions = {};
  const lower = optionalBoolean(config, 'do_lower_case', path);
  if (lower !== undefined) options.doLowerCase = lower;
  const chinese = optionalBoolean(config, 'tokenize_chinese_chars', path);
  if (chinese !== undefined) options.tokenizeChineseChars = chinese;
  if (config.strip_accents !== undefined && config.strip_accents !== null) {
    if (typeof config.strip_accents !== 'boolean') {
      throw new ModelFileError(path, `"strip_accents" must be true, false or null, got ${JSON.stringify(config.strip_accents)}`);
    }
    options.stripAccents = config.strip_accents;
  }
  const specials = specialTokenNames(config, path);
  if (Object.keys(specials).length > 0) options.specialTokens = specials;
  return options;
}

function optionalBoolean(config: Record<string, unknown>, key: string, path: string): boolean | undefined {
  const value = config[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw new ModelFileError(path, `"${key}" must be true or false, got ${JSON.stringify(value)}`);
  return value;
}

/** unk_token & co, written either as a string or as HF's serialized AddedToken {content: ...}. */
function specialTokenNames(config: Record<string, unknown>, path: string): Partial<SpecialTokenNames> {
  const names: Partial<SpecialTokenNames> = {};
  for (const [name, key] of Object.entries(SPECIAL_KEYS) as [keyof SpecialTokenNames, string][]) {
    const value = config[key];
    if (value === undefined || value === null) continue;
    if (typeof value === 'string') names[name] = value;
    else if (typeof value === 'object' && typeof (value as { content?: unknown }).content === 'string') {
      names[name] = (value as { content: string }).content;
    } else {
      throw new ModelFileError(path, `"${key}" must be a string or {"content": string}, got ${JSON.stringify(value)}`);
    }
  }
  return names;
}

async function readJsonObject(path: string): Promise<Record<string, unknown> | undefined> {
  const bytes = await readModelFile(path, false);
  if (bytes === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8').decode(bytes));
  } catch (cause) {
    throw new ModelFileError(path, `is not valid JSON (${(cause as Error).message})`, { cause });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ModelFileError(path, 'must hold a JSON object');
  }
  return parsed as Record<string, unknown>;
}

async function readModelFile(path: string, required: boolean): Promise<Uint8Array | undefined> {
  try {
    return await readFile(path);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !required) return undefined;
    if (code === 'ENOENT') throw new ModelFileError(path, 'not found (the WordPiece vocabulary is required)', { cause });
    if (code === 'EISDIR') throw new ModelFileError(path, 'is a directory, expected a file', { cause });
    if (code === 'ENOTDIR') throw new ModelFileError(path, 'its folder is not a directory', { cause });
    throw new ModelFileError(path, `cannot be read (${code ?? (cause as Error).message})`, { cause });
  }
}
