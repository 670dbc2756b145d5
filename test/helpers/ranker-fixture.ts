/** Paths and reference data of the tiny-ranker fixture (test/fixtures/tiny-ranker, see its README). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { convertedOnce } from './converted-once.js';

export const RANKER_DIR = fileURLToPath(new URL('../fixtures/tiny-ranker', import.meta.url));

export interface RankerCase {
  name: string;
  source_sentence: string[];
  sentences_to_compare: string[];
  input_ids: number[][];
  token_type_ids: number[][];
  logits: number[];
  scores: number[];
}

export const RANKER_CASES: RankerCase[] = JSON.parse(readFileSync(join(RANKER_DIR, 'expected.json'), 'utf8'));

/** Tolerances from the fixture README. */
export const LOGIT_ABS_TOL = 1e-4;
export const RANK_SCORE_ABS_TOL = 1e-5;

/** The fixture converted (once per test process) into a temp folder, for the dtypes asked (see convertedOnce). */
export const convertedRanker = convertedOnce(RANKER_DIR, 'corom-ranker-');
