/**
 * Character classes of Hugging Face's BERT normalizer / pre-tokenizer, as bit flags per code point.
 * The BMP is a 64 KiB table filled once at module load from HF's frozen ranges (a few hundred
 * ranges, well under a millisecond); astral code points (rare) use a binary search.
 */
import {
  astralDecomposableRanges,
  chineseRanges,
  droppedRanges,
  nonspacingMarkRanges,
  punctuationRanges,
  whitespaceRanges,
} from './hf-char-ranges.js';

/** Removed by clean_text (NUL, U+FFFD, control/format/private-use chars; lone surrogates too). */
export const DROPPED = 1;
/** Becomes a word boundary (clean_text turns it into a space). */
export const WHITESPACE = 2;
/** A word of its own (BertPreTokenizer punctuation split). */
export const PUNCTUATION = 4;
/** A CJK ideograph, padded with spaces when tokenize_chinese_chars is on. */
export const CHINESE = 8;
/** Removed by strip_accents (after NFD). */
export const NONSPACING_MARK = 16;

function fillRanges(table: Uint8Array, ranges: readonly number[], flag: number): void {
  for (let r = 0; r < ranges.length; r += 2) {
    const first = ranges[r];
    if (first > 0xffff) break;
    const last = Math.min(ranges[r + 1], 0xffff);
    for (let cp = first; cp <= last; cp++) table[cp] |= flag;
  }
}

const bmpFlags = new Uint8Array(0x10000);
fillRanges(bmpFlags, droppedRanges, DROPPED);
fillRanges(bmpFlags, whitespaceRanges, WHITESPACE);
fillRanges(bmpFlags, punctuationRanges, PUNCTUATION);
fillRanges(bmpFlags, chineseRanges, CHINESE);
fillRanges(bmpFlags, nonspacingMarkRanges, NONSPACING_MARK);
// A lone surrogate cannot reach HF at all (it is not valid UTF-8); JS strings can carry one, and
// dropping it like the other "Cs" code points is the closest to what BERT's cleaning intends.
bmpFlags.fill(DROPPED, 0xd800, 0xe000);

function inRanges(ranges: readonly number[], cp: number): boolean {
  let lo = 0;
  let hi = (ranges.length >> 1) - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (cp < ranges[2 * mid]) hi = mid - 1;
    else if (cp > ranges[2 * mid + 1]) lo = mid + 1;
    else return true;
  }
  return false;
}

function astralFlags(cp: number): number {
  let flags = 0;
  if (inRanges(droppedRanges, cp)) flags |= DROPPED;
  if (inRanges(punctuationRanges, cp)) flags |= PUNCTUATION;
  if (inRanges(chineseRanges, cp)) flags |= CHINESE;
  if (inRanges(nonspacingMarkRanges, cp)) flags |= NONSPACING_MARK;
  return flags;
}

/** Flags (DROPPED | WHITESPACE | PUNCTUATION | CHINESE | NONSPACING_MARK) of one code point. */
export function charFlags(cp: number): number {
  return cp < 0x10000 ? bmpFlags[cp] : astralFlags(cp);
}

/** The BMP flag table itself, for callers that index it directly in a hot loop. */
export const bmpCharFlags: Readonly<Uint8Array> = bmpFlags;

/**
 * Whether HF's NFD (an older Unicode version) decomposes this astral code point. BMP decompositions
 * have been stable for many Unicode versions, so for the BMP the JS engine's NFD agrees with HF.
 */
export function hfDecomposesAstral(cp: number): boolean {
  return inRanges(astralDecomposableRanges, cp);
}

/**
 * Whether BERT's normalization leaves anything of `text` to tokenize: false for a string of only
 * whitespace, dropped characters (controls, zero-width and other format characters, U+FFFD, lone
 * surrogates) and nonspacing marks (removed by strip_accents), which would embed as bare
 * [CLS] [SEP]. Returns at the first such character, so ordinary text costs one lookup.
 */
export function hasTokenizableChar(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    let cp = text.charCodeAt(i);
    if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < text.length) {
      const low = text.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
        i++;
      }
    }
    if ((charFlags(cp) & (DROPPED | WHITESPACE | NONSPACING_MARK)) === 0) return true;
  }
  return false;
}
