/**
 * How far apart onnxruntime-node and onnxruntime-web are on the SAME int8 graph, and how far each
 * is from fp32, as the depth of a coROM-base-shaped random BERT grows (12 heads x 768, 3072 FFN,
 * `--layers` layers). One text per run (no padding), one thread each, 16 CMRC 2018 dev texts.
 *
 *   node --import tsx scripts/int8-runtimes.ts [--layers 1,4,12] [--texts 16]
 *
 * Why: the int8 shard chain in workerd reproduces onnxruntime-web's int8 exactly but differs from
 * `corom serve --dtype int8` (onnxruntime-node) on the coROM-base shape (docs/edge-memory.md).
 * The two runtimes' float kernels (LayerNorm, GELU, softmax, the dynamic quantization's scale)
 * differ by a few ulps; a quantization step turns such a difference into a whole int8 level now
 * and then, and each random layer amplifies it. This prints the numbers behind that sentence.
 * Prints one markdown row per depth. Random weights: a pessimistic proxy for trained ones.
 */
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { loadEngine } from '../src/engine/load.js';
import { cosine } from '../src/engine/vectors.js';
import { convertIfStale } from '../src/store/convert.js';
import { loadCorpus } from './bench/corpus.js';
import { COROM_BASE_SHAPE, writeRandomBert } from './lib/random-bert.js';

const { values: flags } = parseArgs({ options: { layers: { type: 'string', default: '1,4,12' }, texts: { type: 'string', default: '16' } } });
const depths = flags.layers.split(',').map(Number);
if (depths.some((d) => !Number.isInteger(d) || d < 1 || d > 24)) throw new Error(`--layers: integers 1..24, got ${flags.layers}`);
const texts = loadCorpus('data/cmrc2018/cmrc2018_dev.json', Number(flags.texts)).mixed;

type Vectors = Float32Array[];
async function embed(dir: string, dtype: 'fp32' | 'int8', backend: 'node' | 'wasm'): Promise<Vectors> {
  const engine = await loadEngine({ model: dir, dtype, backend, threads: 1 });
  const out: Vectors = [];
  for (const ids of engine.tokenize(texts)) out.push(...(await engine.embedTokens([ids])));
  await engine.close();
  return out;
}
function compare(a: Vectors, b: Vectors): string {
  let min = 1;
  let maxAbs = 0;
  a.forEach((x, i) => {
    min = Math.min(min, cosine(x, b[i]!));
    for (let k = 0; k < x.length; k++) maxAbs = Math.max(maxAbs, Math.abs(x[k]! - b[i]![k]!));
  });
  return `${min.toFixed(7)} (${maxAbs.toExponential(2)})`;
}

console.log(`| layers | node int8 vs web int8: min cosine (max abs diff) | node int8 vs fp32 | web int8 vs fp32 |`);
console.log('|---|---|---|---|');
for (const layers of depths) {
  const source = join(tmpdir(), `corom-int8-runtimes-src-${layers}`);
  const dir = join(tmpdir(), `corom-int8-runtimes-${layers}`);
  if (!existsSync(join(source, 'model.safetensors'))) await writeRandomBert(source, { ...COROM_BASE_SHAPE, numLayers: layers }, { vocabFile: 'test/fixtures/tiny-bert/vocab.txt' });
  for (const dtype of ['fp32', 'int8'] as const) await convertIfStale(source, dir, { dtype });
  const fp32 = await embed(dir, 'fp32', 'node');
  const node8 = await embed(dir, 'int8', 'node');
  const web8 = await embed(dir, 'int8', 'wasm');
  console.log(`| ${layers} | ${compare(node8, web8)} | ${compare(node8, fp32)} | ${compare(web8, fp32)} |`);
}
