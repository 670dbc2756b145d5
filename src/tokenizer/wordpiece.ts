/**
 * BERT WordPiece tokenizer giving the ids of Hugging Face's BertTokenizer (the `tokenizers`
 * BertNormalizer + BertPreTokenizer + WordPiece pipeline, = BertTokenizerFast) for the same
 * vocab.txt. Runtime-neutral: no fs, no Buffer; runs unchanged in Node and Cloudflare Workers.
 *
 * One pass over the UTF-16 code units: each code point is classified with a precomputed table,
 * mapped (lowercase / strip accents) through a per-code-point cache, and appended to a reusable
 * Int32Array word buffer; at a word boundary the word is matched greedily against a code point
 * trie. Encoding stops as soon as the truncation limit is reached.
 */
import { UsageError, ModelFileError } from '../errors.js';
import {
  bmpCharFlags,
  charFlags,
  CHINESE,
  DROPPED,
  PUNCTUATION,
  WHITESPACE,
} from './char-classes.js';
import { CharNormalizer, MAPS_TO_SEQUENCE } from './normalizer.js';
import { padBatch, type PaddedBatch } from './batch.js';
import { CONTINUATION_ROOT, VocabTrie, WORD_ROOT } from './vocab-trie.js';

/** The special tokens a BERT vocabulary names; HF's defaults are [UNK] [CLS] [SEP] [PAD] [MASK]. */
export interface SpecialTokenNames {
  unk: string;
  cls: string;
  sep: string;
  pad: string;
  mask: string;
}

export const DEFAULT_SPECIAL_TOKENS: Readonly<SpecialTokenNames> = {
  unk: '[UNK]',
  cls: '[CLS]',
  sep: '[SEP]',
  pad: '[PAD]',
  mask: '[MASK]',
};

/** The options of HF's BertTokenizer, with HF's defaults. */
export interface WordPieceOptions {
  /** Lower-case the text (default true; `do_lower_case` in tokenizer_config.json). */
  doLowerCase?: boolean;
  /** Strip accents (NFD, drop nonspacing marks). Unset or null: same as doLowerCase, as in HF. */
  stripAccents?: boolean | null;
  /** Put spaces around CJK ideographs so each is a word (default true). */
  tokenizeChineseChars?: boolean;
  /** Special token strings, when the tokenizer config renames them. */
  specialTokens?: Partial<SpecialTokenNames>;
  /** Name of the vocabulary file, used in error messages (default "vocab.txt"). */
  source?: string;
}

/** Longest word (in code points, after normalization) HF's WordPiece splits; longer is [UNK]. */
export const MAX_INPUT_CHARS_PER_WORD = 100;
/** Default truncation length, [CLS] and [SEP] included (coROM's max_seq_length). */
export const DEFAULT_MAX_LENGTH = 128;

/**
 * Splits vocab.txt the way HF's Rust WordPiece::read_file does: one token per "\n"-separated
 * line, trailing whitespace trimmed (so "\r\n" files work), no trailing empty line. A leading
 * UTF-8 byte order mark is dropped (HF would keep it glued to the first token).
 */
export function parseVocab(vocabText: string): string[] {
  const text = vocabText.charCodeAt(0) === 0xfeff ? vocabText.slice(1) : vocabText;
  if (text.length === 0) return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map(trimEndWhiteSpace);
}

// Rust's str::trim_end (Unicode White_Space); JS trimEnd differs (it trims U+FEFF, not U+0085).
const TRAILING_WHITE_SPACE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/;
function trimEndWhiteSpace(line: string): string {
  return TRAILING_WHITE_SPACE.test(line) ? line.replace(TRAILING_WHITE_SPACE, '') : line;
}

interface SpecialMatch {
  text: string;
  id: number;
}

export class WordPieceTokenizer {
  /** Number of vocabulary lines (= highest id + 1; a duplicated token keeps its last line's id). */
  readonly vocabSize: number;
  readonly clsId: number;
  readonly sepId: number;
  readonly padId: number;
  readonly unkId: number;
  /** Id of the mask token, or undefined when the vocabulary has none. */
  readonly maskId: number | undefined;
  readonly doLowerCase: boolean;
  readonly stripAccents: boolean;
  readonly tokenizeChineseChars: boolean;

  private readonly tokens: readonly string[];
  private readonly trie: VocabTrie;
  private readonly normalizer: CharNormalizer;
  /** Special tokens written literally in the text become their id (HF's added-token split). */
  private readonly specials: readonly SpecialMatch[];
  private readonly specialFirstUnit: Uint8Array;
  private vocabMap: Map<string, number> | undefined;

  // Reused buffers: encode is synchronous, so one set per tokenizer is never shared mid-call.
  private pieces = new Int32Array(256);
  private count = 0;
  private readonly word = new Int32Array(MAX_INPUT_CHARS_PER_WORD + 1);
  private wordLen = 0;

  /** Builds a tokenizer from the text of a vocab.txt. Throws ModelFileError on an unusable vocabulary. */
  static fromVocabText(vocabText: string, options: WordPieceOptions = {}): WordPieceTokenizer {
    return new WordPieceTokenizer(parseVocab(vocabText), options);
  }

  /** Builds a tokenizer from vocabulary tokens in id order. */
  constructor(tokens: readonly string[], options: WordPieceOptions = {}) {
    const source = options.source ?? 'vocab.txt';
    if (tokens.length === 0 || tokens.every((t) => t === '')) {
      throw new ModelFileError(source, 'the vocabulary is empty');
    }
    const names = { ...DEFAULT_SPECIAL_TOKENS, ...options.specialTokens };
    const lastIndex = new Map<string, number>();
    const wanted = new Set(Object.values(names));
    tokens.forEach((token, id) => {
      if (wanted.has(token)) lastIndex.set(token, id);
    });
    const missing = [names.cls, names.sep, names.unk, names.pad].filter((t) => !lastIndex.has(t));
    if (missing.length > 0) {
      throw new ModelFileError(
        source,
        `the vocabulary has no ${missing.join(', ')} token${missing.length > 1 ? 's' : ''} (a BERT vocabulary needs ${names.cls}, ${names.sep}, ${names.unk} and ${names.pad})`,
      );
    }
    this.tokens = tokens;
    this.vocabSize = tokens.length;
    this.clsId = lastIndex.get(names.cls)!;
    this.sepId = lastIndex.get(names.sep)!;
    this.unkId = lastIndex.get(names.unk)!;
    this.padId = lastIndex.get(names.pad)!;
    this.maskId = lastIndex.get(names.mask);

    this.doLowerCase = options.doLowerCase ?? true;
    this.stripAccents = options.stripAccents ?? this.doLowerCase;
    this.tokenizeChineseChars = options.tokenizeChineseChars ?? true;
    this.normalizer = new CharNormalizer(this.doLowerCase, this.stripAccents);
    this.trie = new VocabTrie(tokens);

    // Longest first, so that of two special tokens starting at the same place the longer wins.
    this.specials = [...new Set(Object.values(names))]
      .filter((t) => t.length > 0 && lastIndex.has(t))
      .map((t) => ({ text: t, id: lastIndex.get(t)! }))
      .sort((a, b) => b.text.length - a.text.length);
    this.specialFirstUnit = new Uint8Array(0x10000);
    for (const s of this.specials) this.specialFirstUnit[s.text.charCodeAt(0)] = 1;
  }

  /**
   * Token ids of one text: [CLS] pieces [SEP], keeping the first maxLength - 2 pieces
   * (HF's truncation=True, max_length=maxLength). maxLength defaults to 128.
   */
  encode(text: string, maxLength: number = DEFAULT_MAX_LENGTH): Int32Array {
    checkText(text);
    checkMaxLength(maxLength);
    const n = this.run(text, maxLength - 2);
    const ids = new Int32Array(n + 2);
    ids[0] = this.clsId;
    ids.set(this.pieces.subarray(0, n), 1);
    ids[n + 1] = this.sepId;
    return ids;
  }

  /**
   * Ids and token type ids of a (query, passage) pair, `[CLS] query [SEP] passage [SEP]`, as Hugging
   * Face's fast tokenizer gives them with `truncation=True` ("longest_first") at `maxLength`:
   * with B = maxLength - 3 pieces to share, a side no longer than B/2 keeps all its pieces and the
   * other gets the rest; when both are longer, the shorter side (the query on a tie) keeps
   * floor(B/2) and the other ceil(B/2). Type ids are 0 through the first [SEP], 1 after.
   * An empty side contributes no pieces (an empty passage gives `[CLS] query [SEP] [SEP]`, as HF does).
   */
  encodePair(query: string, passage: string, maxLength: number = DEFAULT_MAX_LENGTH): EncodedPair {
    checkText(query);
    checkText(passage);
    if (!Number.isInteger(maxLength) || maxLength < 3) {
      throw new UsageError(`maxLength must be an integer >= 3 for a pair (room for [CLS] and two [SEP]), got ${maxLength}`);
    }
    // Both sides in full: which side is longer decides the split, even past the budget.
    const queryCount = this.run(query, Number.MAX_SAFE_INTEGER);
    const queryPieces = this.pieces.slice(0, queryCount);
    const passageCount = this.run(passage, Number.MAX_SAFE_INTEGER);
    const [keepQuery, keepPassage] = longestFirst(queryCount, passageCount, maxLength - 3);
    const length = keepQuery + keepPassage + 3;
    const ids = new Int32Array(length);
    const typeIds = new Int32Array(length);
    ids[0] = this.clsId;
    ids.set(queryPieces.subarray(0, keepQuery), 1);
    ids[keepQuery + 1] = this.sepId;
    ids.set(this.pieces.subarray(0, keepPassage), keepQuery + 2);
    ids[length - 1] = this.sepId;
    typeIds.fill(1, keepQuery + 2);
    return { ids, typeIds };
  }

  /** `encode` for each text. */
  encodeBatch(texts: readonly string[], maxLength: number = DEFAULT_MAX_LENGTH): Int32Array[] {
    checkMaxLength(maxLength);
    return texts.map((text) => this.encode(text, maxLength));
  }

  /** `encodeBatch` padded with [PAD] to the longest sequence, as flat int64 model inputs. */
  encodeBatchPadded(texts: readonly string[], maxLength: number = DEFAULT_MAX_LENGTH): PaddedBatch {
    return padBatch(this.encodeBatch(texts, maxLength), this.padId);
  }

  /** The word pieces of a text, without [CLS]/[SEP] and without truncation. */
  tokenize(text: string): string[] {
    checkText(text);
    const n = this.run(text, Number.MAX_SAFE_INTEGER);
    const out = new Array<string>(n);
    for (let i = 0; i < n; i++) out[i] = this.tokens[this.pieces[i]];
    return out;
  }

  idToToken(id: number): string | undefined {
    return Number.isInteger(id) && id >= 0 && id < this.tokens.length ? this.tokens[id] : undefined;
  }

  tokenToId(token: string): number | undefined {
    if (this.vocabMap === undefined) {
      this.vocabMap = new Map();
      this.tokens.forEach((t, id) => this.vocabMap!.set(t, id));
    }
    return this.vocabMap.get(token);
  }

  /** Writes the piece ids of `text` to this.pieces and returns how many (at most `limit`). */
  private run(text: string, limit: number): number {
    this.count = 0;
    this.wordLen = 0;
    const flagsOf = bmpCharFlags;
    const normalizer = this.normalizer;
    const identity = normalizer.identity;
    const chinese = this.tokenizeChineseChars;
    const specialFirstUnit = this.specialFirstUnit;
    const n = text.length;
    let i = 0;
    while (i < n && this.count < limit) {
      let cp = text.charCodeAt(i++);
      if (specialFirstUnit[cp] === 1) {
        const special = this.matchSpecial(text, i - 1);
        if (special !== undefined) {
          this.flush();
          this.push(special.id);
          i += special.text.length - 1;
          continue;
        }
      }
      if (cp >= 0xd800 && cp <= 0xdbff && i < n) {
        const low = text.charCodeAt(i);
        if (low >= 0xdc00 && low <= 0xdfff) {
          cp = ((cp - 0xd800) << 10) + (low - 0xdc00) + 0x10000;
          i++;
        }
      }
      const flags = cp < 0x10000 ? flagsOf[cp] : charFlags(cp);
      if (flags !== 0) {
        if ((flags & DROPPED) !== 0) continue;
        if ((flags & WHITESPACE) !== 0) {
          this.flush();
          continue;
        }
        if ((flags & CHINESE) !== 0 && chinese) {
          this.flush();
          this.appendMapped(cp);
          this.flush();
          continue;
        }
      }
      if (identity) {
        if ((flags & PUNCTUATION) !== 0) this.emitSingle(cp);
        else this.append(cp);
      } else {
        this.appendMapped(cp);
      }
    }
    if (this.count < limit) this.flush();
    return Math.min(this.count, limit);
  }

  private matchSpecial(text: string, at: number): SpecialMatch | undefined {
    for (const s of this.specials) if (text.startsWith(s.text, at)) return s;
    return undefined;
  }

  /** Appends the normalized form of `cp` to the current word, splitting off punctuation. */
  private appendMapped(cp: number): void {
    const normalizer = this.normalizer;
    const mapped = normalizer.map(cp);
    if (mapped !== MAPS_TO_SEQUENCE) {
      this.appendChecked(mapped);
      return;
    }
    const sequence = normalizer.mapped(cp);
    for (let k = 0; k < sequence.length; k++) this.appendChecked(sequence[k]);
  }

  // Punctuation is decided after normalization (HF pre-tokenizes the normalized text): "≠"
  // decomposes to "=" + U+0338, which strip_accents turns into the punctuation "=".
  private appendChecked(cp: number): void {
    const flags = cp < 0x10000 ? bmpCharFlags[cp] : charFlags(cp);
    if ((flags & PUNCTUATION) !== 0) this.emitSingle(cp);
    else this.append(cp);
  }

  private append(cp: number): void {
    if (this.wordLen < this.word.length) this.word[this.wordLen] = cp;
    this.wordLen++;
  }

  private emitSingle(cp: number): void {
    this.flush();
    this.word[0] = cp;
    this.wordLen = 1;
    this.flush();
  }

  private push(id: number): void {
    if (this.count === this.pieces.length) this.grow(this.count + 1);
    this.pieces[this.count++] = id;
  }

  private grow(needed: number): void {
    let size = this.pieces.length * 2;
    while (size < needed) size *= 2;
    const bigger = new Int32Array(size);
    bigger.set(this.pieces.subarray(0, this.count));
    this.pieces = bigger;
  }

  /** Greedy longest-match-first WordPiece of the buffered word; [UNK] when it cannot be split. */
  private flush(): void {
    const len = this.wordLen;
    if (len === 0) return;
    this.wordLen = 0;
    if (len > MAX_INPUT_CHARS_PER_WORD) {
      this.push(this.unkId);
      return;
    }
    if (this.pieces.length < this.count + len) this.grow(this.count + len);
    const pieces = this.pieces;
    const trie = this.trie;
    const word = this.word;
    if (len === 1) {
      const node = trie.child(WORD_ROOT, word[0]);
      const id = node < 0 ? -1 : trie.idAt(node);
      pieces[this.count++] = id < 0 ? this.unkId : id;
      return;
    }
    const first = this.count;
    let start = 0;
    let root = WORD_ROOT;
    while (start < len) {
      let node = root;
      let bestEnd = -1;
      let bestId = -1;
      for (let k = start; k < len; k++) {
        node = trie.child(node, word[k]);
        if (node < 0) break;
        const id = trie.idAt(node);
        if (id >= 0) {
          bestEnd = k + 1;
          bestId = id;
        }
      }
      if (bestId < 0) {
        this.count = first;
        pieces[this.count++] = this.unkId;
        return;
      }
      pieces[this.count++] = bestId;
      start = bestEnd;
      root = CONTINUATION_ROOT;
    }
  }
}

/** A tokenized (query, passage) pair: ids and token type ids of the same length. */
export interface EncodedPair {
  ids: Int32Array;
  typeIds: Int32Array;
}

/**
 * How many pieces of each side a pair keeps within `budget` pieces: the `tokenizers` crate's
 * TruncationStrategy::LongestFirst for a pair (truncate_encodings in its utils/truncation.rs).
 */
export function longestFirst(first: number, second: number, budget: number): [number, number] {
  if (first + second <= budget) return [first, second];
  const swap = first > second;
  let short = swap ? second : first;
  let long: number;
  if (short > budget) long = short;
  else long = Math.max(short, budget - short);
  if (short + long > budget) {
    short = Math.floor(budget / 2);
    long = short + (budget % 2);
  }
  long = Math.min(long, swap ? first : second);
  short = Math.min(short, swap ? second : first);
  return swap ? [long, short] : [short, long];
}

function checkText(text: unknown): asserts text is string {
  if (typeof text !== 'string') throw new UsageError(`text to tokenize must be a string, got ${text === null ? 'null' : typeof text}`);
}

function checkMaxLength(maxLength: number): void {
  if (!Number.isInteger(maxLength) || maxLength < 2) {
    throw new UsageError(`maxLength must be an integer >= 2 (room for [CLS] and [SEP]), got ${maxLength}`);
  }
}
