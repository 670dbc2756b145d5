/**
 * Embeds the first `--texts` CMRC 2018 dev texts (one per run, one thread, onnxruntime-node) and
 * writes the vectors as JSON: the child that scripts/int8-runtimes.ts runs under valgrind to get
 * onnxruntime's AVX2 kernels on an AVX-512 machine. `embedTexts` is also what the parent embeds with.
 *
 *   node --import tsx scripts/lib/embed-dump.ts --model DIR --dtype int8|fp32 --out FILE [--texts 4]
 */
import { writeFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

import { loadEngine } from '../../src/engine/load.js';
import { loadCorpus } from '../bench/corpus.js';

/** `texts` one per run (no padding), or all in one batch; one thread. */
export async function embedTexts(dir: string, dtype: 'fp32' | 'int8', backend: 'node' | 'wasm', texts: string[], batched = false): Promise<Float32Array[]> {
  const engine = await loadEngine({ model: dir, dtype, backend, threads: 1 });
  try {
    const ids = engine.tokenize(texts);
    if (batched) return await engine.embedTokens(ids);
    const out: Float32Array[] = [];
    for (const one of ids) out.push(...(await engine.embedTokens([one])));
    return out;
  } finally {
    await engine.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values: flags } = parseArgs({
    options: { model: { type: 'string' }, dtype: { type: 'string' }, out: { type: 'string' }, texts: { type: 'string', default: '4' } },
  });
  if (!flags.model || !flags.out || (flags.dtype !== 'int8' && flags.dtype !== 'fp32')) {
    throw new Error('usage: embed-dump.ts --model DIR --dtype int8|fp32 --out FILE [--texts N]');
  }
  const texts = loadCorpus('data/cmrc2018/cmrc2018_dev.json', Number(flags.texts)).mixed;
  const vectors = await embedTexts(flags.model, flags.dtype, 'node', texts);
  await writeFile(flags.out, JSON.stringify(vectors.map((v) => Array.from(v))));
}
