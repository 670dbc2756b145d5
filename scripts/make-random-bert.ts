/**
 * `node --import tsx scripts/make-random-bert.ts OUT [--tiny]`: a coROM-base-shaped checkpoint with
 * random weights (12 layers, hidden 768, 12 heads, intermediate 3072, vocab 21128, 512 positions)
 * for benchmarks and the edge memory harness.
 */
import { COROM_BASE_SHAPE, writeRandomBert } from './lib/random-bert.js';

const out = process.argv[2];
if (!out) {
  process.stderr.write('usage: make-random-bert.ts OUT\n');
  process.exit(2);
}
await writeRandomBert(out, COROM_BASE_SHAPE, { vocabFile: 'test/fixtures/tiny-bert/vocab.txt' });
process.stderr.write(`wrote ${out}\n`);
