/**
 * How long one inference run blocks the event loop, inline (onnxruntime-node on the calling
 * thread) and with loadEngine({ thread: true }) (src/runtime/ort-node-thread.ts).
 *
 *   node --import tsx scripts/reliability/event-loop.ts [--model DIR] [--dtype int8] [--rows 8] [--threads 1]
 *
 * Default model: the tiny fixture. For the real figure use a BERT-base-shaped model:
 *   node --import tsx scripts/make-random-bert.ts /tmp/corom-base-random
 *   node dist/src/cli/main.js convert /tmp/corom-base-random /tmp/corom-base-onnx --dtype int8
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadEngine } from '../../src/engine/load.js';
import type { Dtype } from '../../src/engine/types.js';
import { fixtureModel } from './serve-child.js';

export interface LoopFigure {
  thread: boolean;
  rows: number;
  /** Mean time of one run. */
  runMs: number;
  /** Longest event-loop stall seen during the runs. */
  maxDelayMs: number;
}

export async function measureEventLoop(model: string, dtype: Dtype, rows: number, threads: number, runs = 3): Promise<LoopFigure[]> {
  const figures: LoopFigure[] = [];
  for (const thread of [false, true]) {
    const engine = await loadEngine({ model, dtype, threads, thread });
    try {
      // Full-length rows (128 tokens): the longest run the server makes.
      const batch = engine.tokenize(Array.from({ length: rows }, (_, i) => `${'吃完海鲜可以喝牛奶吗'.repeat(14)}${i}`));
      await engine.embedTokens(batch);
      const delay = monitorEventLoopDelay({ resolution: 1 });
      delay.enable();
      const started = performance.now();
      for (let r = 0; r < runs; r++) await engine.embedTokens(batch);
      const runMs = (performance.now() - started) / runs;
      delay.disable();
      figures.push({ thread, rows, runMs, maxDelayMs: delay.max / 1e6 });
    } finally {
      await engine.close();
    }
  }
  return figures;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { model: { type: 'string' }, dtype: { type: 'string', default: 'fp32' }, rows: { type: 'string', default: '64' }, threads: { type: 'string', default: '1' } } });
  const model = values.model ? resolve(values.model) : await fixtureModel();
  const figures = await measureEventLoop(model, values.dtype as Dtype, Number(values.rows), Number(values.threads));
  process.stdout.write(`event loop during inference: ${model} (${values.dtype}), ${values.rows} x 128 tokens, ${values.threads} thread(s)\n\n| inference | one run | longest event-loop stall |\n|---|---:|---:|\n`);
  for (const f of figures) process.stdout.write(`| ${f.thread ? 'worker thread' : 'inline (main thread)'} | ${f.runMs.toFixed(1)} ms | ${f.maxDelayMs.toFixed(1)} ms |\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) await main();
