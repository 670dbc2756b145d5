/**
 * An independent reference: @huggingface/transformers' BertTokenizer built in memory from a
 * vocab.txt, with the tokenizer.json HF's Python BertTokenizer would write for it. Used by the
 * cross-check test and by scripts/bench-tokenizer.ts.
 */
import { BertTokenizer } from '@huggingface/transformers';
import { parseVocab } from '../../src/tokenizer/wordpiece.js';

export interface ReferenceOptions {
  doLowerCase?: boolean;
  stripAccents?: boolean | null;
  tokenizeChineseChars?: boolean;
}

export interface ReferenceTokenizer {
  /** [CLS] ... [SEP] ids, truncated to maxLength. */
  encode(text: string, maxLength: number): number[];
}

const SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];

export function tokenizerJson(vocabText: string, options: ReferenceOptions = {}): Record<string, unknown> {
  const vocab: Record<string, number> = {};
  parseVocab(vocabText).forEach((token, id) => {
    vocab[token] = id;
  });
  const special = (token: string) => ({ id: token, ids: [vocab[token]], tokens: [token] });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIALS.filter((t) => t in vocab).map((content) => ({
      id: vocab[content],
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: options.tokenizeChineseChars ?? true,
      strip_accents: options.stripAccents ?? null,
      lowercase: options.doLowerCase ?? true,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: { '[CLS]': special('[CLS]'), '[SEP]': special('[SEP]') },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
  };
}

export function transformersJsBert(vocabText: string, options: ReferenceOptions = {}): ReferenceTokenizer {
  const tokenizer = new BertTokenizer(tokenizerJson(vocabText, options), {
    do_lower_case: options.doLowerCase ?? true,
    unk_token: '[UNK]',
    cls_token: '[CLS]',
    sep_token: '[SEP]',
    pad_token: '[PAD]',
    mask_token: '[MASK]',
    model_max_length: 512,
  });
  const sepId = tokenizer.sep_token_id;
  return {
    encode(text: string, maxLength: number): number[] {
      // transformers.js truncates after adding [CLS]/[SEP], so a truncated sequence loses its
      // [SEP] (HF keeps room for it). Encode in full and truncate the way HF does.
      const ids = tokenizer.encode(text);
      return ids.length <= maxLength ? ids : [...ids.slice(0, maxLength - 1), sepId];
    },
  };
}
