import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { padBatch } from '../../src/tokenizer/batch.js';
import { WordPieceTokenizer, type WordPieceOptions } from '../../src/tokenizer/wordpiece.js';

const fixture = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const vocabText = readFileSync(fixture('../fixtures/tiny-bert/vocab.txt'), 'utf8');
const tokenizer = WordPieceTokenizer.fromVocabText(vocabText);

/** tokenizer_config.json-style keys (as in tricky-cases.json and HF) to WordPieceOptions. */
interface HfOptions {
  do_lower_case?: boolean;
  strip_accents?: boolean | null;
  tokenize_chinese_chars?: boolean;
}
const toOptions = (o: HfOptions = {}): WordPieceOptions => ({
  doLowerCase: o.do_lower_case,
  stripAccents: o.strip_accents,
  tokenizeChineseChars: o.tokenize_chinese_chars,
});
const tokenizers = new Map<string, WordPieceTokenizer>();
function tokenizerFor(options: HfOptions = {}): WordPieceTokenizer {
  const key = JSON.stringify(options);
  let t = tokenizers.get(key);
  if (t === undefined) tokenizers.set(key, (t = WordPieceTokenizer.fromVocabText(vocabText, toOptions(options))));
  return t;
}

describe('tiny-bert expected.json', () => {
  interface ExpectedCase {
    name: string;
    source_sentence: string[];
    sentences_to_compare: string[];
    input_ids: number[][];
  }
  const cases = JSON.parse(readFileSync(fixture('../fixtures/tiny-bert/expected.json'), 'utf8')) as ExpectedCase[];
  for (const c of cases) {
    it(`gives the reference input_ids of ${c.name}`, () => {
      const texts = [...c.source_sentence, ...c.sentences_to_compare];
      expect(texts.map((t) => Array.from(tokenizer.encode(t, 128)))).toEqual(c.input_ids);
    });
  }
});

describe('tricky cases (hand-derived tokens)', () => {
  interface TrickyCase {
    name: string;
    text: string;
    tokens?: string[];
    options?: HfOptions;
    maxLength?: number;
  }
  const cases = JSON.parse(readFileSync(fixture('./tricky-cases.json'), 'utf8')) as TrickyCase[];
  for (const c of cases.filter((c) => c.tokens !== undefined)) {
    it(c.name, () => {
      const t = tokenizerFor(c.options);
      const maxLength = c.maxLength ?? 128;
      const ids = c.tokens!.map((token) => t.tokenToId(token));
      expect(ids).not.toContain(undefined);
      if (c.maxLength === undefined) expect(t.tokenize(c.text)).toEqual(c.tokens);
      expect(Array.from(t.encode(c.text, maxLength))).toEqual([t.clsId, ...ids, t.sepId]);
    });
  }

  it('keeps the first 126 pieces at the default maxLength of 128', () => {
    const text = '中文'.repeat(100);
    const ids = tokenizer.encode(text);
    expect(ids.length).toBe(128);
    expect(ids[0]).toBe(tokenizer.clsId);
    expect(ids[127]).toBe(tokenizer.sepId);
    const pieces = Array.from(ids.subarray(1, 127), (id) => tokenizer.idToToken(id));
    expect(pieces).toEqual(Array.from({ length: 126 }, (_, i) => (i % 2 === 0 ? '中' : '文')));
    expect(tokenizer.tokenize(text)).toHaveLength(200);
  });

  it('splits a 100-character word but not a 101-character one', () => {
    expect(tokenizer.tokenize('a'.repeat(100))).toEqual(['aaa', ...Array<string>(48).fill('##aa'), '##a']);
    expect(tokenizer.tokenize('a'.repeat(101))).toEqual(['[UNK]']);
    // The limit counts code points, not UTF-16 units: 100 astral chars (200 units) are still split.
    const astral = WordPieceTokenizer.fromVocabText('[PAD]\n[UNK]\n[CLS]\n[SEP]\n\u{1d465}\n##\u{1d465}\n');
    expect(astral.tokenize('\u{1d465}'.repeat(100))).toEqual(['\u{1d465}', ...Array<string>(99).fill('##\u{1d465}')]);
    expect(astral.tokenize('\u{1d465}'.repeat(101))).toEqual(['[UNK]']);
  });

  it('maps a duplicated vocabulary token to its last line, as HF does', () => {
    // bert-base-chinese lists "##4" twice (lines 8160 and 20170).
    expect(tokenizer.tokenToId('##4')).toBe(20169);
    expect(Array.from(tokenizer.encode('2024'))).toEqual([101, tokenizer.tokenToId('202'), 20169, 102]);
  });
});

describe('Hugging Face reference ids (transformers BertTokenizer, see hf-reference/)', () => {
  interface ReferenceCase {
    text: string;
    maxLength: number;
    ids: number[];
  }
  interface Reference {
    generator: string;
    groups: { name: string; options: HfOptions; cases: ReferenceCase[] }[];
    vocabParsing: { vocabText: string; vocab: Record<string, number>; cases: ReferenceCase[] };
  }
  const reference = JSON.parse(readFileSync(fixture('./hf-reference/reference.json'), 'utf8')) as Reference;

  for (const group of reference.groups) {
    it(`matches every case of group ${group.name} (${group.cases.length} texts)`, () => {
      const t = tokenizerFor(group.options);
      const mismatches = group.cases
        .map((c) => ({ text: c.text, maxLength: c.maxLength, hf: c.ids, ours: Array.from(t.encode(c.text, c.maxLength)) }))
        .filter((m) => m.hf.join() !== m.ours.join());
      expect(mismatches).toEqual([]);
    });
  }

  it('parses vocab.txt like HF (CRLF, lone CR, trailing blanks, empty line, duplicates)', () => {
    const { vocabText: text, vocab, cases } = reference.vocabParsing;
    const t = WordPieceTokenizer.fromVocabText(text);
    for (const [token, id] of Object.entries(vocab)) expect([token, t.tokenToId(token)]).toEqual([token, id]);
    for (const c of cases) expect(Array.from(t.encode(c.text, c.maxLength))).toEqual(c.ids);
  });
});

describe('WordPieceTokenizer API', () => {
  it('exposes the special ids and vocabulary size of bert-base-chinese', () => {
    expect([tokenizer.padId, tokenizer.unkId, tokenizer.clsId, tokenizer.sepId, tokenizer.maskId]).toEqual([0, 100, 101, 102, 103]);
    expect(tokenizer.vocabSize).toBe(21128);
    expect(tokenizer.idToToken(101)).toBe('[CLS]');
    expect(tokenizer.idToToken(21128)).toBeUndefined();
    expect(tokenizer.idToToken(-1)).toBeUndefined();
    expect(tokenizer.tokenToId('你')).toBe(872);
    expect(tokenizer.tokenToId('not-a-token')).toBeUndefined();
  });

  it('encodes without truncation when maxLength is huge, and returns fresh arrays', () => {
    const text = '中文'.repeat(300);
    const full = tokenizer.encode(text, Number.MAX_SAFE_INTEGER);
    expect(full.length).toBe(602);
    const short = tokenizer.encode('你好', 128);
    expect(Array.from(short)).toEqual([101, 872, 1962, 102]);
    expect(full.length).toBe(602); // not overwritten by the later call
    expect(Array.from(tokenizer.encode('', 2))).toEqual([101, 102]);
    expect(Array.from(tokenizer.encode('你好', 2))).toEqual([101, 102]);
  });

  it('rejects a bad maxLength or a non-string text with a UsageError', () => {
    expect(() => tokenizer.encode('a', 1)).toThrow(UsageError);
    expect(() => tokenizer.encode('a', 2.5)).toThrow(/maxLength must be an integer >= 2/);
    expect(() => tokenizer.encode('a', Number.NaN)).toThrow(UsageError);
    expect(() => tokenizer.encode(42 as unknown as string)).toThrow(/must be a string, got number/);
    expect(() => tokenizer.tokenize(null as unknown as string)).toThrow(UsageError);
  });

  it('encodes batches, padded into int64 tensors', () => {
    const batch = tokenizer.encodeBatch(['你好', '中文ab', ''], 128);
    expect(batch.map((ids) => Array.from(ids))).toEqual([
      [101, 872, 1962, 102],
      [101, 704, 3152, 9386, 102],
      [101, 102],
    ]);
    const padded = tokenizer.encodeBatchPadded(['你好', '中文ab', ''], 128);
    expect(padded.shape).toEqual([3, 5]);
    expect(Array.from(padded.inputIds, Number)).toEqual([101, 872, 1962, 102, 0, 101, 704, 3152, 9386, 102, 101, 102, 0, 0, 0]);
    expect(Array.from(padded.attentionMask, Number)).toEqual([1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0]);
    expect(Array.from(padded.tokenTypeIds, Number)).toEqual(new Array(15).fill(0));
    expect(() => padBatch(batch, 0, 4)).toThrow(RangeError);
    expect(padBatch(batch, 7, 6).inputIds[5]).toBe(7n);
  });

  it('builds from a vocabulary with renamed special tokens', () => {
    const t = WordPieceTokenizer.fromVocabText('<pad>\n<unk>\n<s>\n</s>\nab\n##c\n', {
      specialTokens: { pad: '<pad>', unk: '<unk>', cls: '<s>', sep: '</s>' },
    });
    expect([t.padId, t.unkId, t.clsId, t.sepId, t.maskId]).toEqual([0, 1, 2, 3, undefined]);
    expect(Array.from(t.encode('abc x</s>ab'))).toEqual([2, 4, 5, 1, 3, 4, 3]);
  });
});

describe('runtime neutrality', () => {
  it('wordpiece.ts and everything it imports use no Node module, Buffer or process (Workers-safe)', () => {
    const seen = new Set<string>();
    const visit = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      const source = readFileSync(file, 'utf8');
      for (const [, spec] of source.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+'([^']+)'/gm)) {
        expect(spec.startsWith('.'), `${file} imports ${spec}`).toBe(true);
        visit(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
      }
      expect(/\b(Buffer|process|require)\b/.test(source.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '')), file).toBe(false);
    };
    visit(fixture('../../src/tokenizer/wordpiece.ts'));
    expect(seen.size).toBeGreaterThanOrEqual(6);
  });
});
