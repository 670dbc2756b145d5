/**
 * Tokenizer throughput: our WordPieceTokenizer vs @huggingface/transformers' BertTokenizer on the
 * same vocab.txt, over the real Chinese texts of CMRC 2018 dev (questions + contexts).
 *
 *   node --import tsx scripts/bench-tokenizer.ts [--rounds N] [--vocab path/to/vocab.txt]
 *
 * Two workloads: truncated to coROM's 128 tokens (what the service does; we stop reading a text
 * once 126 pieces are out, transformers.js tokenizes it all and then cuts), and untruncated (every
 * piece of every text), which compares the tokenizers' per-piece speed on equal work.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { WordPieceTokenizer } from '../src/tokenizer/wordpiece.js';
import { transformersJsBert } from './lib/transformers-js-bert.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    vocab: { type: 'string', default: fileURLToPath(new URL('../test/fixtures/tiny-bert/vocab.txt', import.meta.url)) },
  },
});
const rounds = Number(values.rounds);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds must be a positive integer, got ${values.rounds}`);

interface Cmrc {
  data: { paragraphs: { context: string; qas: { question: string }[] }[] }[];
}
const cmrc = JSON.parse(readFileSync(new URL('../data/cmrc2018/cmrc2018_dev.json', import.meta.url), 'utf8')) as Cmrc;
const texts: string[] = [];
for (const article of cmrc.data) {
  for (const p of article.paragraphs) {
    texts.push(p.context);
    for (const qa of p.qas) texts.push(qa.question);
  }
}
const chars = texts.reduce((n, t) => n + t.length, 0);

const vocabText = readFileSync(values.vocab!, 'utf8');
let start = performance.now();
const ours = WordPieceTokenizer.fromVocabText(vocabText);
const oursBuildMs = performance.now() - start;
start = performance.now();
const reference = transformersJsBert(vocabText);
const referenceBuildMs = performance.now() - start;

type Encode = (text: string, maxLength: number) => ArrayLike<number>;
function measure(encode: Encode, maxLength: number): { textsPerSecond: number; tokensPerSecond: number } {
  let tokens = 0;
  for (const t of texts) tokens += encode(t, maxLength).length; // warm-up, and the token count
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (const t of texts) encode(t, maxLength);
    best = Math.min(best, performance.now() - t0);
  }
  return { textsPerSecond: (texts.length / best) * 1000, tokensPerSecond: (tokens / best) * 1000 };
}

const oursEncode: Encode = (t, m) => ours.encode(t, m);
const referenceEncode: Encode = (t, m) => reference.encode(t, m);
const contexts = cmrc.data.reduce((n, a) => n + a.paragraphs.length, 0);
console.log(`${texts.length} CMRC 2018 dev texts (${texts.length - contexts} questions, ${contexts} contexts), ${chars} UTF-16 units; best of ${rounds} rounds`);
console.log(`vocabulary build: ours ${oursBuildMs.toFixed(1)} ms, transformers.js ${referenceBuildMs.toFixed(1)} ms`);
for (const [label, maxLength] of [
  ['truncated to 128', 128],
  ['untruncated', Number.MAX_SAFE_INTEGER],
] as const) {
  const a = measure(oursEncode, maxLength);
  const b = measure(referenceEncode, maxLength);
  console.log(
    `${label.padEnd(17)} ours ${Math.round(a.textsPerSecond)} texts/s (${(a.tokensPerSecond / 1e6).toFixed(2)} M tokens/s)` +
      ` | transformers.js ${Math.round(b.textsPerSecond)} texts/s (${(b.tokensPerSecond / 1e6).toFixed(2)} M tokens/s)` +
      ` | ratio ${(a.textsPerSecond / b.textsPerSecond).toFixed(1)}x`,
  );
}
