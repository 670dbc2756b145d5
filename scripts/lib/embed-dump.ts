/**
 * Embeds the first `--texts` CMRC 2018 dev texts (one per run, one thread, onnxruntime-node) and
 * writes the vectors as JSON: the child that scripts/int8-runtimes.ts runs under valgrind to get
 * onnxruntime's AVX2 kernels on an AVX-512 machine.
 *
 *   node --import tsx scripts/lib/embed-dump.ts --model DIR --dtype int8|fp32 --out FILE [--texts 4]
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';

import { loadEngine } from '../../src/engine/load.js';
import { loadCorpus } from '../bench/corpus.js';

const { values: flags } = parseArgs({
  options: { model: { type: 'string' }, dtype: { type: 'string' }, out: { type: 'string' }, texts: { type: 'string', default: '4' } },
});
if (!flags.model || !flags.out || (flags.dtype !== 'int8' && flags.dtype !== 'fp32')) {
  throw new Error('usage: embed-dump.ts --model DIR --dtype int8|fp32 --out FILE [--texts N]');
}
const texts = loadCorpus('data/cmrc2018/cmrc2018_dev.json', Number(flags.texts)).mixed;
const engine = await loadEngine({ model: flags.model, dtype: flags.dtype, backend: 'node', threads: 1 });
const vectors: number[][] = [];
for (const ids of engine.tokenize(texts)) vectors.push(Array.from((await engine.embedTokens([ids]))[0]!));
await engine.close();
await writeFile(flags.out, JSON.stringify(vectors));
