/** Paths and reference data of the tiny-bert fixture (test/fixtures/tiny-bert, see its README). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { convertedOnce } from './converted-once.js';

export const FIXTURE_DIR = fileURLToPath(new URL('../fixtures/tiny-bert', import.meta.url));

export interface ExpectedCase {
  name: string;
  source_sentence: string[];
  sentences_to_compare: string[];
  input_ids: number[][];
  text_embedding: number[][];
  scores: number[];
}

export const EXPECTED: ExpectedCase[] = JSON.parse(readFileSync(`${FIXTURE_DIR}/expected.json`, 'utf8'));

/** Every distinct sentence of the expected cases (sources and comparisons), in first-seen order. */
export const FIXTURE_SENTENCES = [...new Set(EXPECTED.flatMap((c) => [...c.source_sentence, ...c.sentences_to_compare]))];

/** Tolerances from the fixture README. */
export const EMBEDDING_ABS_TOL = 1e-4;
export const SCORE_REL_TOL = 1e-3;

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    d += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return d / Math.sqrt(na * nb);
}

/** The fixture converted (once per test process) into a temp folder, for the dtypes asked (see convertedOnce). */
export const convertedFixture = convertedOnce(FIXTURE_DIR, 'corom-fixture-');
