/**
 * Pair tokenization for cross-encoders: `[CLS] query [SEP] passage [SEP]`, type ids 0 through the
 * first [SEP], Hugging Face's longest_first truncation -- exact against the tiny-ranker fixture,
 * plus the edges the fixture does not pin.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { longestFirst, WordPieceTokenizer } from '../../src/tokenizer/wordpiece.js';
import { RANKER_CASES, RANKER_DIR } from '../helpers/ranker-fixture.js';

const tokenizer = WordPieceTokenizer.fromVocabText(readFileSync(`${RANKER_DIR}/vocab.txt`, 'utf8'));
const CLS = tokenizer.clsId;
const SEP = tokenizer.sepId;

describe('encodePair', () => {
  for (const c of RANKER_CASES) {
    it(`${c.name}: ids and type ids equal the reference exactly`, () => {
      c.sentences_to_compare.forEach((passage, i) => {
        const pair = tokenizer.encodePair(c.source_sentence[0]!, passage, 128);
        expect(Array.from(pair.ids)).toEqual(c.input_ids[i]);
        expect(Array.from(pair.typeIds)).toEqual(c.token_type_ids[i]);
      });
    });
  }

  it('lays the pair out as [CLS] query [SEP] passage [SEP] with type ids 0 then 1', () => {
    const q = tokenizer.encode('功和功率');
    const p = tokenizer.encode('做功快慢');
    const pair = tokenizer.encodePair('功和功率', '做功快慢');
    expect(Array.from(pair.ids)).toEqual([...q, ...p.subarray(1)]);
    expect(Array.from(pair.typeIds)).toEqual([...new Array(q.length).fill(0), ...new Array(p.length - 1).fill(1)]);
  });

  it('an empty passage gives [CLS] query [SEP] [SEP], the final [SEP] of type 1 (as HF does)', () => {
    const pair = tokenizer.encodePair('功率', '');
    expect(Array.from(pair.ids)).toEqual([CLS, ...tokenizer.encode('功率').subarray(1, -1), SEP, SEP]);
    expect(Array.from(pair.typeIds)).toEqual([0, 0, 0, 0, 1]);
    expect(Array.from(tokenizer.encodePair('', '').ids)).toEqual([CLS, SEP, SEP]);
  });

  it('a query longer than the whole budget with a short passage: the passage stays whole', () => {
    const query = '功'.repeat(500);
    const pair = tokenizer.encodePair(query, '做功快慢', 128);
    expect(pair.ids.length).toBe(128);
    // 125 pieces to share; the passage (4) is at most half, so the query gets 121.
    expect(Array.from(pair.ids.subarray(-6))).toEqual([SEP, ...tokenizer.encode('做功快慢').subarray(1)]);
    expect(pair.typeIds.indexOf(1)).toBe(1 + 121 + 1);
  });

  it('both sides longer than half the budget: the shorter (the query on a tie) keeps floor(B/2)', () => {
    const tie = tokenizer.encodePair('功'.repeat(300), '率'.repeat(300), 128);
    expect(tie.typeIds.indexOf(1)).toBe(1 + 62 + 1);
    const longerQuery = tokenizer.encodePair('功'.repeat(301), '率'.repeat(300), 128);
    expect(longerQuery.typeIds.indexOf(1)).toBe(1 + 63 + 1);
    const even = tokenizer.encodePair('功'.repeat(300), '率'.repeat(200), 13); // B = 10
    expect(even.typeIds.indexOf(1)).toBe(1 + 5 + 1);
    expect(even.ids.length).toBe(13);
  });

  it('longestFirst follows the tokenizers crate case by case', () => {
    expect(longestFirst(10, 20, 125)).toEqual([10, 20]);
    expect(longestFirst(10, 200, 125)).toEqual([10, 115]);
    expect(longestFirst(200, 10, 125)).toEqual([115, 10]);
    expect(longestFirst(62, 100, 125)).toEqual([62, 63]);
    expect(longestFirst(63, 100, 125)).toEqual([62, 63]);
    expect(longestFirst(100, 63, 125)).toEqual([63, 62]);
    expect(longestFirst(500, 500, 125)).toEqual([62, 63]);
    expect(longestFirst(0, 500, 125)).toEqual([0, 125]);
    expect(longestFirst(3, 3, 0)).toEqual([0, 0]);
  });

  it('max lengths that leave no room for the three special tokens are refused', () => {
    expect(() => tokenizer.encodePair('a', 'b', 2)).toThrow(UsageError);
    expect(() => tokenizer.encodePair('a', 'b', 3.5)).toThrow(UsageError);
    expect(Array.from(tokenizer.encodePair('功', '率', 3).ids)).toEqual([CLS, SEP, SEP]);
    expect(() => tokenizer.encodePair(null as unknown as string, 'b')).toThrow(UsageError);
  });
});
