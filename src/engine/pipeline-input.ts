/**
 * Validates the ModelScope pipeline input. ModelScope accepts a string or a list for each key;
 * both are normalized to lists. Shared by the CLI and the HTTP route.
 */
import type { PipelineInput, RankingInput } from './types.js';

export function parsePipelineInput(raw: unknown, fail: (message: string) => Error): PipelineInput {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw fail('expected an object {"source_sentence": [...], "sentences_to_compare": [...]}');
  const obj = raw as Record<string, unknown>;
  const list = (key: string, required: boolean): string[] | undefined => {
    const v = obj[key];
    if (v === undefined || v === null) {
      if (required) throw fail(`"${key}" is required`);
      return undefined;
    }
    const items = typeof v === 'string' ? [v] : v;
    if (!Array.isArray(items) || !items.every((s) => typeof s === 'string')) throw fail(`"${key}" must be a string or a list of strings`);
    return items as string[];
  };
  const source = list('source_sentence', true)!;
  if (source.length === 0) throw fail('"source_sentence" must not be empty');
  const compare = list('sentences_to_compare', false);
  return compare ? { source_sentence: source, sentences_to_compare: compare } : { source_sentence: source };
}

/**
 * Validates the text-ranking pipeline input `{"source_sentence": [query], "sentences_to_compare":
 * [...]}`: exactly one query (a string or a one-item list) and a list (or one string) of passages.
 */
export function parseRankingInput(raw: unknown, fail: (message: string) => Error): RankingInput {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw fail('expected an object {"source_sentence": [query], "sentences_to_compare": [...]}');
  const input = parsePipelineInput(raw, fail);
  if (input.source_sentence.length !== 1) throw fail(`"source_sentence" must hold exactly one query for text ranking, got ${input.source_sentence.length}`);
  if (input.sentences_to_compare === undefined) throw fail('"sentences_to_compare" is required for text ranking');
  return { source_sentence: input.source_sentence, sentences_to_compare: input.sentences_to_compare };
}
