/** Renders benchmarks.json as docs/benchmarks.md: every number comes from that one run. */
import { fmt, type Summary } from './stats.js';

type R = Record<string, any>; // the JSON written by scripts/bench.ts

const x = (v: number | null | undefined, d = 2): string => (typeof v === 'number' ? `${v.toFixed(d)}x` : 'n/a');
const pct = (v: number | null | undefined): string => (typeof v === 'number' ? `${(v * 100).toFixed(0)}%` : 'n/a');
const s = (v: Summary | undefined, d = 1): string => (v ? fmt(v, d) : 'n/a');

export function renderReport(r: R, args: string): string {
  const m = r.machine;
  const lines: string[] = [
    '# Benchmarks',
    '',
    `Produced by \`npm run bench${args ? ` -- ${args}` : ''}\` (scripts/bench.ts) in one run; every figure is the median of ${r.runs} run(s) with min–max in parentheses.`,
    '',
    `- Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}, onnxruntime ${m.onnxruntime}; ${r.threads} thread(s) unless stated.`,
  ];
  if (r.engine || r.wasm || r.http || r.tokenizer || r.roofline) {
    lines.push(
      `- Model: ${r.model.source} (${r.model.layers} layers, hidden ${r.model.hidden}, ${r.model.heads} heads): the compute of coROM-base when the shape is 12/768/12.`,
      `- Corpus: ${r.corpus.texts} CMRC 2018 dev texts (passages and questions interleaved; CC BY-SA 4.0, Cui et al. 2019), ${r.corpus.meanTokens.toFixed(1)} tokens on average after truncation to 128, batches of ${r.corpus.batch}.`,
    );
  }
  if (r.ranker && r.ranker.command !== `npm run bench -- ${args}`.trim()) lines.push('- Section 6 (ranker) was measured by its own command, stated there.');
  lines.push('');
  if (r.quick) lines.push('**Quick mode: a smoke run on the tiny fixture; these numbers mean nothing.**', '');
  if (r.engine) {
    const e = r.engine;
    lines.push(
      '## 1. Engine vs transformers.js (same ONNX file, same threads)',
      '',
      '| dtype | engine texts/s | transformers.js texts/s | ratio | engine tokens/s | engine query p50 / p99 ms | transformers.js query p50 / p99 ms |',
      '|---|---|---|---|---|---|---|',
    );
    for (const d of ['fp32', 'int8']) {
      const v = e[d];
      if (!v) continue;
      lines.push(
        `| ${d} | ${s(v.ours.textsPerSec)} | ${s(v.transformersJs.textsPerSec)} | ${x(v.ratio)} | ${s(v.ours.tokensPerSec, 0)} | ${v.oursLatency.p50.toFixed(1)} / ${v.oursLatency.p99.toFixed(1)} | ${v.transformersJsLatency.p50.toFixed(1)} / ${v.transformersJsLatency.p99.toFixed(1)} |`,
      );
    }
    lines.push('', `int8 over fp32 (engine): ${x(e.int8OverFp32)}; int8 cosine to fp32 on 200 texts: min ${e.int8CosineToFp32?.min.toFixed(4)}, mean ${e.int8CosineToFp32?.mean.toFixed(4)}.`, '');
  }
  if (r.wasm) {
    lines.push(
      '## 2. WASM backend vs native backend, one thread each',
      '',
      '| backend | texts/s | tokens/s |',
      '|---|---|---|',
      `| onnxruntime-node, 1 thread | ${s(r.wasm.native.textsPerSec)} | ${s(r.wasm.native.tokensPerSec, 0)} |`,
      `| onnxruntime-web (WASM), 1 thread | ${s(r.wasm.wasm.textsPerSec)} | ${s(r.wasm.wasm.tokensPerSec, 0)} |`,
      '',
      `WASM is ${x(r.wasm.slowdown)} slower than native on ${r.wasm.texts} texts.`,
      '',
    );
  }
  if (r.http) {
    const h = r.http;
    lines.push(
      `## 3. HTTP server under load (${h.connections} connections, ${h.seconds} s, single-text /v1/embeddings, autocannon in another process)`,
      '',
      '| mode | requests/s | p99 ms |',
      '|---|---|---|',
      `| dynamic batching | ${s(h.batchingRps)} | ${s(h.batchingP99, 0)} |`,
      `| batching off | ${s(h.noBatchingRps)} | ${s(h.noBatchingP99, 0)} |`,
      '',
      `Batching gives ${x(h.ratio)} the requests/s. Non-2xx responses and errors per run are in benchmarks.json.`,
      '',
    );
  }
  if (r.tokenizer) {
    lines.push('## 4. Tokenizer', '', '| tokenizer | texts/s |', '|---|---|', `| ours | ${s(r.tokenizer.ours, 0)} |`, `| transformers.js BertTokenizer | ${s(r.tokenizer.transformersJs, 0)} |`, '', `Ours is ${x(r.tokenizer.ratio)} transformers.js on ${r.tokenizer.texts} texts.`, '');
  }
  if (r.roofline) {
    const f = r.roofline;
    lines.push(
      `## 5. Roofline: one large MatMul [${f.shape.join(' x ')}] in the same runtime`,
      '',
      '| op | GOP/s | engine achieved | fraction of peak |',
      '|---|---|---|---|',
      `| fp32 MatMul | ${s(f.fp32Peak)} | ${s(r.engine?.fp32?.ours.gops)} | ${pct(f.engineFp32Fraction)} |`,
      `| int8 DynamicQuantizeMatMul | ${s(f.int8Peak)} | ${s(r.engine?.int8?.ours.gops)} | ${pct(f.engineInt8Fraction)} |`,
      '',
      'Engine GOP/s counts only useful work: real (unpadded) tokens through every encoder MatMul and attention product.',
      '',
    );
  }
  if (r.ranker) lines.push(...rankerSection(r.ranker));
  return lines.join('\n');
}

function rankerSection(k: R): string[] {
  const m = k.machine;
  const lines = [
    '## 6. Cross-encoder ranker: engine vs transformers.js (same ONNX file, same threads)',
    '',
    `Command: \`${k.command}\`; ${m.cpu}${m.flags ? ` (${m.flags})` : ''}, ${m.cores} cores, Node ${m.node}; ${k.threads} thread(s); median of ${k.runs} run(s) with min–max.`,
    `Model: ${k.model.source} (${k.model.layers} layers, hidden ${k.model.hidden}, ${k.model.heads} heads). ${k.pairs} (query, passage) pairs from CMRC 2018 dev in requests of ${k.perRequest} passages (one call per request), ${typeof k.meanTokens === 'number' ? k.meanTokens.toFixed(1) : 'n/a'} tokens per pair on average after truncation to 128.`,
    '',
    '| dtype | engine pairs/s | transformers.js pairs/s | ratio | max logit difference (short pairs) |',
    '|---|---|---|---|---|',
  ];
  for (const d of ['fp32', 'int8']) {
    const v = k[d];
    if (v) lines.push(`| ${d} | ${s(v.ours)} | ${s(v.transformersJs)} | ${x(v.ratio)} | ${v.maxAbsLogitDiff.toExponential(1)} |`);
  }
  lines.push(
    '',
    `int8 over fp32 (engine): ${x(k.int8OverFp32)}.${k.loadAverage ? ` 1-minute load average ${k.loadAverage.start.toFixed(1)} before, ${k.loadAverage.end.toFixed(1)} after (${m.cores} cores)${Math.max(k.loadAverage.start, k.loadAverage.end) > m.cores ? ': above the core count, other processes shared the CPU' : ''}.` : ''}`,
    '',
    "transformers.js side: `AutoTokenizer` with `text_pair` + `AutoModelForSequenceClassification` on our converted `model.fp32.onnx` / `model.int8.onnx` (symlinked), sigmoid taken by the caller. Its `text-classification` pipeline cannot be used: it takes no text pair and applies softmax, which is 1 for a one-logit ranker. transformers.js truncates a long pair by cutting its tail at 128 tokens where ours truncates longest_first (the ModelScope pipeline's rule): the same token count per pair, so the same compute; the logits are compared only on pairs short enough that neither side truncates. Ours groups a request's pairs by length before padding; transformers.js pads the whole request to its longest pair.",
    '',
    'The two sides are timed in alternation (engine then transformers.js, then the other way round, ...), so load that comes and goes falls on both alike. At 128 tokens a pair, both spend almost all their time in the same ONNX graph on the same runtime: a ratio near 1x is what to expect; the engine\'s lead on embeddings (section 1) comes from short texts, where tokenization, padding and per-call overhead weigh more.',
    '',
  );
  const h = k.http;
  if (h?.unavailable) lines.push(`Rerank through the server: not measured (${h.unavailable}).`, '');
  else if (!h) lines.push('Rerank through the server: not measured in this run (it needs `--sections ...,http,ranker` or `--rerank-server URL`, and a server whose /v1/models reports a model with `kind: "rerank"`).', '');
  else {
    const failed = typeof h.failed === 'number' && h.failed > 0 ? ` ${h.failed} request(s) failed or timed out across the runs: the figures count only answered ones.` : '';
    lines.push(`Rerank through the server (${h.server}, model ${h.model}, POST /v1/rerank with ${k.perRequest} documents, ${h.connections} connections, ${h.seconds} s): ${s(h.requestsPerSec)} requests/s, ${s(h.pairsPerSec)} pairs/s.${failed}`, '');
  }
  return lines;
}
