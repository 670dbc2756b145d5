/**
 * Index terms for BM25 over Chinese text without a word segmenter (none is installed): every run of
 * CJK characters gives its character unigrams and bigrams (the usual n-gram baseline for Chinese
 * retrieval), every run of other letters/digits gives one lower-cased word. Text is NFKC-normalised
 * first so full-width letters and digits (Ｗｉｎｄｏｗｓ１０) match their ASCII forms. Punctuation
 * and spaces only separate terms.
 */

const CJK = String.raw`\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}`;
// A CJK run, or a run of letters/digits/marks that are not CJK (the lookahead keeps "abc中文" as
// "abc" + the CJK run instead of one token).
const TERM_RUNS = new RegExp(`[${CJK}]+|(?:(?![${CJK}])[\\p{L}\\p{N}\\p{M}])+`, 'gu');
const CJK_START = new RegExp(`^[${CJK}]`, 'u');

export function bm25Terms(text: string): string[] {
  const terms: string[] = [];
  const normalized = text.normalize('NFKC').toLowerCase();
  for (const match of normalized.matchAll(TERM_RUNS)) {
    const run = match[0];
    if (!CJK_START.test(run)) {
      terms.push(run);
      continue;
    }
    // Iterate by code point so characters outside the BMP (CJK Extension B) stay whole.
    const chars = Array.from(run);
    for (let i = 0; i < chars.length; i++) {
      terms.push(chars[i]!);
      if (i + 1 < chars.length) terms.push(chars[i]! + chars[i + 1]!);
    }
  }
  return terms;
}
