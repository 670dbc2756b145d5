/** Fixture checkpoints converted for the tests that load them, once per test process. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Dtype } from '../../src/engine/types.js';
import { convertCheckpoint } from '../../src/store/convert.js';

/**
 * A function that converts the checkpoint in `source` into one temp folder (made on first use,
 * named `<tempPrefix>...`) for the dtypes asked (fp32 when none), each dtype once per test process,
 * and resolves with the folder. Conversions run one after another: each rewrites the folder's
 * corom.json, so concurrent ones would race on it.
 */
export function convertedOnce(source: string, tempPrefix: string): (...dtypes: Dtype[]) => Promise<string> {
  let convertedDir: string | undefined;
  let conversions: Promise<unknown> = Promise.resolve();
  const converted = new Set<Dtype>();
  return async (...dtypes) => {
    convertedDir ??= mkdtempSync(join(tmpdir(), tempPrefix));
    const dir = convertedDir;
    for (const dtype of dtypes.length ? dtypes : (['fp32'] as Dtype[])) {
      if (converted.has(dtype)) continue;
      converted.add(dtype);
      conversions = conversions.then(() => convertCheckpoint(source, dir, { dtype }));
    }
    await conversions;
    return dir;
  };
}
