/** Paths and reference data of the tiny-ranker fixture (test/fixtures/tiny-ranker, see its README). */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Dtype } from '../../src/engine/types.js';
import { convertCheckpoint } from '../../src/store/convert.js';

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

let convertedDir: string | undefined;
let conversions: Promise<unknown> = Promise.resolve();
const converted = new Set<Dtype>();

/** The fixture converted once per test process, one dtype after another (they share corom.json). */
export async function convertedRanker(...dtypes: Dtype[]): Promise<string> {
  convertedDir ??= mkdtempSync(join(tmpdir(), 'corom-ranker-'));
  const dir = convertedDir;
  for (const dtype of dtypes.length ? dtypes : (['fp32'] as Dtype[])) {
    if (converted.has(dtype)) continue;
    converted.add(dtype);
    conversions = conversions.then(() => convertCheckpoint(RANKER_DIR, dir, { dtype }));
  }
  await conversions;
  return dir;
}
