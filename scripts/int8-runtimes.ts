/**
 * How far apart int8 vectors of the SAME model and graph are when only the arithmetic around them
 * changes: onnxruntime-node against onnxruntime-web (what the edge runs), `corom serve --dtype int8`
 * against itself with a text alone or batched, and onnxruntime-node on this CPU's AVX-512 kernels
 * against its AVX2 kernels (another origin machine). fp32 rows beside them for scale. A
 * coROM-base-shaped random BERT (12 heads x 768, 3072 FFN, `--layers` layers), one thread, CMRC 2018
 * dev texts.
 *
 *   node --import tsx scripts/int8-runtimes.ts [--layers 1,4,12] [--texts 16] [--std 0.05] [--avx2 4]
 *
 * --std     the random weights' standard deviation (every weight and bias drawn normal(0, std);
 *           LayerNorm 1 / 0). 0.05 is what every other script here uses; 0.02 is BERT's
 *           initializer_range.
 * --avx2 N  also embed the first N texts under valgrind, whose CPU has AVX2 + FMA but no AVX-512 or
 *           VNNI, so onnxruntime's MLAS picks its AVX2 kernels: the same binary, model and texts as
 *           on another x86 origin. Slow (~10 min for 4 texts at 12 layers int8, ~20 min fp32), so off
 *           by default; needs valgrind and a CPU with AVX-512 (else there is nothing to switch).
 *
 * Why: issue 16 asked the edge for cosine >= 0.9999 to `corom serve --dtype int8`. The int8 graph
 * quantizes activations dynamically (a rounding step per value, its scale from the whole batch), so
 * an ulp of difference in a float kernel (LayerNorm, GELU, softmax, an fp32 GEMM's summation order)
 * moves a value across a rounding boundary now and then and later layers carry it on. This prints how
 * big that is for every kind of "other arithmetic", so the edge's figure can be read against the
 * origin's own. Prints one markdown table.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { cosine } from '../src/engine/vectors.js';
import { convertIfStale } from '../src/store/convert.js';
import { loadCorpus } from './bench/corpus.js';
import { embedTexts } from './lib/embed-dump.js';
import { COROM_BASE_SHAPE, writeRandomBert } from './lib/random-bert.js';

const { values: flags } = parseArgs({
  options: {
    layers: { type: 'string', default: '1,4,12' },
    texts: { type: 'string', default: '16' },
    std: { type: 'string', default: '0.05' },
    avx2: { type: 'string', default: '0' },
  },
});
const depths = flags.layers.split(',').map(Number);
if (depths.some((d) => !Number.isInteger(d) || d < 1 || d > 24)) throw new Error(`--layers: integers 1..24, got ${flags.layers}`);
const textCount = Number(flags.texts);
if (!Number.isInteger(textCount) || textCount < 2 || textCount > 256) throw new Error(`--texts: an integer 2..256, got ${flags.texts}`);
const std = Number(flags.std);
if (!(std > 0 && std <= 1)) throw new Error(`--std: a number in (0, 1], got ${flags.std}`);
const avx2Texts = Number(flags.avx2);
if (!Number.isInteger(avx2Texts) || avx2Texts < 0 || avx2Texts > textCount) throw new Error(`--avx2: an integer 0..--texts, got ${flags.avx2}`);
const texts = loadCorpus('data/cmrc2018/cmrc2018_dev.json', textCount).mixed;

if (avx2Texts > 0) {
  if (!/\bavx512f\b/.test(readFileSync('/proc/cpuinfo', 'utf8'))) throw new Error('--avx2: this CPU has no AVX-512, so its kernels already are the AVX2 ones');
  if (spawnSync('valgrind', ['--version']).status !== 0) throw new Error('--avx2 needs valgrind (apt-get install valgrind)');
}

type Vectors = Float32Array[];
type Dtype = 'fp32' | 'int8';

/** One text per run, or all texts in one batch. */
const embed = (dir: string, dtype: Dtype, backend: 'node' | 'wasm', batched = false): Promise<Vectors> => embedTexts(dir, dtype, backend, texts, batched);

/** The first `count` texts, one per run, on onnxruntime-node under valgrind (AVX2 kernels). */
async function embedOnAvx2(dir: string, dtype: Dtype, count: number): Promise<Vectors> {
  const scratch = await mkdtemp(join(tmpdir(), 'corom-avx2-'));
  try {
    const out = join(scratch, 'vectors.json');
    const child = ['--import', 'tsx', 'scripts/lib/embed-dump.ts', '--model', dir, '--dtype', dtype, '--out', out, '--texts', String(count)];
    execFileSync('valgrind', ['--tool=none', '-q', process.execPath, ...child], { stdio: ['ignore', 'ignore', 'inherit'] });
    return (JSON.parse(await readFile(out, 'utf8')) as number[][]).map((v) => Float32Array.from(v));
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

function compare(a: Vectors, b: Vectors): string {
  let min = 1;
  let maxAbs = 0;
  b.forEach((y, i) => {
    const x = a[i]!;
    min = Math.min(min, cosine(x, y));
    for (let k = 0; k < x.length; k++) maxAbs = Math.max(maxAbs, Math.abs(x[k]! - y[k]!));
  });
  return `${min.toFixed(7)} (${maxAbs.toExponential(2)})`;
}

const avx2Columns = avx2Texts > 0 ? [`int8: AVX-512 vs AVX2 kernels (${avx2Texts} texts)`, `fp32: AVX-512 vs AVX2 kernels (${avx2Texts} texts)`] : [];
const columns = ['layers', 'int8: node vs web (the edge)', 'int8 node: alone vs batch of all', ...avx2Columns, 'fp32: node vs web', 'node int8 vs fp32', 'web int8 vs fp32'];
console.log(`min cosine (max abs diff); ${textCount} CMRC texts, random weights std ${std}; one thread`);
console.log(`| ${columns.join(' | ')} |`);
console.log(`|${columns.map(() => '---').join('|')}|`);
for (const layers of depths) {
  const source = join(tmpdir(), `corom-int8-runtimes-src-${layers}-${std}`);
  const dir = join(tmpdir(), `corom-int8-runtimes-${layers}-${std}`);
  if (!existsSync(join(source, 'model.safetensors'))) {
    await writeRandomBert(source, { ...COROM_BASE_SHAPE, numLayers: layers }, { vocabFile: 'test/fixtures/tiny-bert/vocab.txt', std });
  }
  for (const dtype of ['fp32', 'int8'] as const) await convertIfStale(source, dir, { dtype });
  const fp32 = await embed(dir, 'fp32', 'node');
  const node8 = await embed(dir, 'int8', 'node');
  const web8 = await embed(dir, 'int8', 'wasm');
  const cells = [String(layers), compare(node8, web8), compare(node8, await embed(dir, 'int8', 'node', true))];
  if (avx2Texts > 0) cells.push(compare(node8, await embedOnAvx2(dir, 'int8', avx2Texts)), compare(fp32, await embedOnAvx2(dir, 'fp32', avx2Texts)));
  cells.push(compare(fp32, await embed(dir, 'fp32', 'wasm')), compare(node8, fp32), compare(web8, fp32));
  console.log(`| ${cells.join(' | ')} |`);
}
