/**
 * The resumable list scanner (src/http/json-scan.ts) fed a document in pieces gives the verdict the
 * one-shot findOverlongList gives on the whole text, wherever the pieces are cut: inside strings,
 * escapes, keys, numbers, literals, multi-byte UTF-8 characters and the byte-order mark. And it
 * refuses an over-long list at the byte where element maxItems + 1 starts, not at the end.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findOverlongList, ListScanner, type OverlongList } from '../../src/http/json-scan.js';

const encoder = new TextEncoder();

interface Fed {
  /** The first refusal push returned, and how many bytes had been pushed by then. */
  refusal: OverlongList | undefined;
  refusedAfter: number;
  verdict: OverlongList | undefined;
}

function feed(bytes: Uint8Array, cuts: readonly number[], maxItems: number): Fed {
  const scanner = new ListScanner(maxItems);
  let refusal: OverlongList | undefined;
  let refusedAfter = -1;
  let from = 0;
  for (const to of [...cuts, bytes.length]) {
    const seen = scanner.push(bytes.subarray(from, to));
    if (seen !== undefined && refusal === undefined) {
      refusal = seen;
      refusedAfter = to;
    }
    // Once refused, later chunks do not change the refusal.
    if (refusal !== undefined) expect(seen).toEqual(refusal);
    from = to;
  }
  return { refusal, refusedAfter, verdict: scanner.end() };
}

/** What the one-shot verdict implies push must have said on the way. */
function expectedRefusal(verdict: OverlongList | undefined, maxItems: number): OverlongList | undefined {
  if (verdict === undefined) return undefined;
  if ('items' in verdict) return { path: verdict.path, moreThan: maxItems };
  return verdict;
}

const list = (element: string, times: number): string => `[${new Array(times).fill(element).join(',')}]`;

// Short documents with maxItems 3, so that every cut of every one is tried.
const MAX = 3;
const documents: Array<[string, string]> = [
  ['strings with escaped quotes and backslashes', `{"input":["a\\"b","c\\\\","\\\\\\"]","d\\u0022"]}`],
  ['a key with escapes and multi-byte UTF-8', `{"in\\u0070ut":{"名字\\n":["é","中文","😀",""]}}`],
  ['a key holding an escaped quote', `{"a\\"b":[{},{},{},{}]}`],
  ['numbers, then a list past maxItems', `{"input":[1,-2.5e3,3,4,[5]]}`],
  ['literals past maxItems', `{"input":[true,false,null,true]}`],
  ['numbers, then null past maxItems', `{"input":[1,2,3,null]}`],
  ['a number list of any length', `{"input":[1,2,3,4,5,6,7,8]}`],
  ['a list of lists after a number', `{"input":[1,[],[],[]]}`],
  ['nested over-long list, whitespace everywhere', ` {\r\n "x" : [ 1 , 2 ] ,\t"y" : { "z" : [ "a" , [ ] , { } , "}" , "]" ] } } `],
  ['the body itself a list', `[{},{},{},{}]`],
  ['within the limit', `{"input":["a","b","c"],"model":"m"}`],
  ['brackets and commas inside strings', `{"input":["[,],{","\\\\",",,,,"]}`],
  ['a list that never closes', `{"input":[[],[],[],[],[]`],
  ['something it cannot follow', `{"input":[NaN,[],[],[],[]]}`],
  ['a byte-order mark first', `\uFEFF{"input":["a","b","c","d"]}`],
  ['an unclosed string', `{"input":["a","b`],
  ['a string past maxItems of numbers, never closed', `{"input":[1,2,3,"ab`],
  ['a stray closing bracket', `]{"input":["a","b","c","d"]}`],
];

describe('ListScanner fed in pieces', () => {
  it.each(documents)('%s: the same verdict at every cut, and byte by byte', (_name, text) => {
    const bytes = encoder.encode(text);
    const whole = findOverlongList(text, MAX);
    const once = feed(bytes, [], MAX);
    if (text.length >= 2 * MAX + 3) expect(once.verdict).toEqual(whole);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const fed = feed(bytes, [cut], MAX);
      expect(fed.verdict, `cut at byte ${cut}`).toEqual(once.verdict);
      expect(fed.refusal, `cut at byte ${cut}`).toEqual(once.refusal);
    }
    // Every cut at once: the refusal comes with the byte that makes it certain.
    const single = feed(
      bytes,
      Array.from({ length: bytes.length }, (_, i) => i),
      MAX,
    );
    expect(single.verdict).toEqual(once.verdict);
    expect(single.refusal).toEqual(once.refusal);
    // And every pair of cuts (three pieces), for the short documents.
    if (bytes.length <= 60) {
      for (let a = 0; a <= bytes.length; a++) {
        for (let b = a; b <= bytes.length; b++) {
          const fed = feed(bytes, [a, b], MAX);
          expect(fed.verdict, `cuts at ${a}, ${b}`).toEqual(once.verdict);
          expect(fed.refusal, `cuts at ${a}, ${b}`).toEqual(once.refusal);
        }
      }
    }
  });

  it('verdicts on the documents above', () => {
    const verdicts = Object.fromEntries(documents.map(([name, text]) => [name, feed(encoder.encode(text), [], MAX)]));
    expect(verdicts['strings with escaped quotes and backslashes'].verdict).toEqual({ path: 'input', items: 4 });
    expect(verdicts['a key with escapes and multi-byte UTF-8'].verdict).toEqual({ path: 'input.名字\n', items: 4 });
    expect(verdicts['a key holding an escaped quote'].verdict).toEqual({ path: 'a"b', items: 4 });
    expect(verdicts['numbers, then a list past maxItems'].verdict).toEqual({ path: 'input', mixedAt: 4, kind: 'array' });
    expect(verdicts['literals past maxItems'].verdict).toEqual({ path: 'input', items: 4 });
    expect(verdicts['numbers, then null past maxItems'].verdict).toEqual({ path: 'input', mixedAt: 3, kind: 'null' });
    expect(verdicts['a number list of any length'].verdict).toBeUndefined();
    expect(verdicts['a list of lists after a number'].verdict).toEqual({ path: 'input', items: 4 });
    expect(verdicts['nested over-long list, whitespace everywhere'].verdict).toEqual({ path: 'y.z', items: 5 });
    expect(verdicts['the body itself a list'].verdict).toEqual({ path: '', items: 4 });
    expect(verdicts['within the limit'].verdict).toBeUndefined();
    expect(verdicts['brackets and commas inside strings'].verdict).toBeUndefined();
    expect(verdicts['a byte-order mark first'].verdict).toEqual({ path: 'input', items: 4 });
    // Not closed, or not followed to the end: no verdict on the whole; but a list seen to pass
    // maxItems before that point was refused on the way (the parse would fail on it anyway).
    expect(verdicts['a list that never closes']).toMatchObject({ verdict: undefined, refusal: { path: 'input', moreThan: 3 } });
    expect(verdicts['something it cannot follow']).toMatchObject({ verdict: undefined, refusal: undefined });
    expect(verdicts['a string past maxItems of numbers, never closed']).toMatchObject({
      verdict: undefined,
      refusal: { path: 'input', mixedAt: 3, kind: 'string' },
    });
    expect(verdicts['an unclosed string']).toMatchObject({ verdict: undefined, refusal: undefined });
    expect(verdicts['a stray closing bracket']).toMatchObject({ verdict: undefined, refusal: undefined });
  });

  it('refuses at the first byte of element maxItems + 1, a few KB into a 4 MB body', () => {
    const text = `{"input":${list('[]', 1_390_000)}}`;
    const bytes = encoder.encode(text);
    const offending = '{"input":['.length + 2048 * '[],'.length;
    const fed = feed(
      bytes,
      Array.from({ length: Math.ceil(bytes.length / 1000) - 1 }, (_, i) => (i + 1) * 1000),
      2048,
    );
    expect(fed.refusal).toEqual({ path: 'input', moreThan: 2048 });
    expect(fed.refusedAfter).toBe(Math.ceil((offending + 1) / 1000) * 1000);
    expect(fed.verdict).toEqual({ path: 'input', items: 1_390_000 });
    // Byte by byte around the offending element: not one byte early.
    const scanner = new ListScanner(2048);
    expect(scanner.push(bytes.subarray(0, offending))).toBeUndefined();
    expect(scanner.push(bytes.subarray(offending, offending + 1))).toEqual({ path: 'input', moreThan: 2048 });
  });

  it('a chunk ending inside a multi-byte character or the byte-order mark', () => {
    const text = `\uFEFF{"键😀":["é","😀","中","x"]}`;
    const bytes = encoder.encode(text);
    for (let cut = 0; cut <= bytes.length; cut++) {
      expect(feed(bytes, [cut], 3).verdict).toEqual({ path: '键😀', items: 4 });
    }
    // A broken mark is not UTF-8 this pass follows.
    expect(feed(Uint8Array.of(0xef, 0xbb, 0x7b, 0x7d), [1], 3).verdict).toBeUndefined();
  });

  it('random JSON, cut at random places, gives the one-shot verdict', () => {
    fc.assert(
      fc.property(
        fc.json({ maxDepth: 4 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        fc.integer({ min: 0, max: 3 }),
        (json, rawCuts, maxItems) => {
          const text = `{"input":${json}}`;
          const bytes = encoder.encode(text);
          const cuts = rawCuts.map((c) => c % (bytes.length + 1)).sort((a, b) => a - b);
          const fed = feed(bytes, cuts, maxItems);
          if (text.length >= 2 * maxItems + 3) expect(fed.verdict).toEqual(findOverlongList(text, maxItems));
          expect(fed.refusal).toEqual(expectedRefusal(fed.verdict, maxItems));
          expect(fed.verdict).toEqual(feed(bytes, [], maxItems).verdict);
        },
      ),
      { numRuns: 500 },
    );
  });
});
