/**
 * Cold start of the in-isolate backend at coROM-base size, in real workerd: a coROM-base-shaped
 * checkpoint (random weights: same shapes, same bytes, same cost as the real model, which cannot
 * be downloaded here) converted to the edge artifact (q4 with ONNX external data), put into local
 * R2 under models/corom-base/, then the first request (R2 read + onnxruntime-web session + one
 * embedding) timed from the client, against warm requests. Not a test (minutes, ~1 GB of disk
 * churn); run it by hand:
 *
 *   node --import tsx test/worker/measure-cold-start.ts [--checkpoint DIR] [--no-external] [--runs 3]
 *
 * Each run starts a fresh workerd (a new isolate). Local workerd does not enforce the 128 MB
 * limit and reads R2 from local disk, so the R2 part is a lower bound for a deployed Worker.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { convertCheckpoint } from '../../src/store/convert.js';
import type { ConvertedMetadata } from '../../src/store/metadata.js';
import { COROM_BASE_SHAPE, writeRandomBert } from '../../scripts/lib/random-bert.js';
import { startWorkerd } from './workerd-harness.js';

const { values: flags } = parseArgs({
  options: { checkpoint: { type: 'string' }, 'no-external': { type: 'boolean', default: false }, runs: { type: 'string', default: '3' } },
});
const external = !flags['no-external'];
const runs = Number(flags.runs);

const checkpoint = flags.checkpoint ?? join(tmpdir(), 'corom-base-random');
if (!existsSync(join(checkpoint, 'config.json'))) {
  process.stderr.write(`writing a coROM-base-shaped random checkpoint to ${checkpoint} ...\n`);
  await writeRandomBert(checkpoint, COROM_BASE_SHAPE, { vocabFile: 'test/fixtures/tiny-bert/vocab.txt' });
}
const converted = await mkdtemp(join(tmpdir(), 'corom-cold-start-'));
try {
  process.stderr.write(`converting to q4${external ? ' with external data' : ''} ...\n`);
  await convertCheckpoint(checkpoint, converted, { dtype: 'q4', externalData: external });
  const meta = JSON.parse(await readFile(join(converted, 'corom.json'), 'utf8')) as ConvertedMetadata;
  const entry = meta.dtypes.q4!;
  const files = ['corom.json', 'vocab.txt', entry.file, ...(entry.externalData ? [entry.externalData] : [])];
  const objects: Record<string, Uint8Array> = {};
  for (const file of files) objects[`models/corom-base/${file}`] = await readFile(join(converted, file));

  const text = '吃完海鲜可以喝牛奶吗?';
  // 200 characters: truncated to the full 128 tokens.
  const full = (i: number) => `${i}${'测'.repeat(200)}`;
  const results: Array<Record<string, unknown> & { coldMs: number; warmShortMedianMs: number; oneFullMs: number; batch8FullMs: number }> = [];
  for (let run = 0; run < runs; run++) {
    const worker = await startWorkerd({
      objects,
      vars: { MODEL_ID: 'corom-base', MODEL_PREFIX: 'models/corom-base/', MODEL_DTYPE: 'q4' },
      requestTimeoutMs: 300_000,
    });
    try {
      const ok = async (input: string | string[]) => {
        const response = await worker.postJson('/v1/embeddings', { input });
        if (response.status !== 200) throw new Error(`answered ${response.status}: ${JSON.stringify(response.body)}`);
        return response.ms;
      };
      const coldMs = await ok(text);
      const afterCold = (await worker.get('/info')).body.edge;
      const warm: number[] = [];
      for (let i = 0; i < 5; i++) warm.push(await ok(text));
      const oneFullMs = await ok(full(0));
      const batch8FullMs = await ok(Array.from({ length: 8 }, (_, i) => full(i + 1)));
      const after = (await worker.get('/info')).body.edge;
      results.push({
        coldMs: Math.round(coldMs),
        warmShortMedianMs: Math.round(warm.sort((a, b) => a - b)[2]!),
        oneFullMs: Math.round(oneFullMs),
        batch8FullMs: Math.round(batch8FullMs),
        inWorker: afterCold.model.loadTimings,
        wasmMBAfterCold: +(afterCold.wasmMemoryBytes / 1e6).toFixed(1),
        wasmMBAfter8x128: +(after.wasmMemoryBytes / 1e6).toFixed(1),
      });
      process.stderr.write(`run ${run + 1}: ${JSON.stringify(results.at(-1))}\n`);
    } finally {
      await worker.dispose();
    }
  }
  const median = (key: 'coldMs' | 'warmShortMedianMs' | 'oneFullMs' | 'batch8FullMs') => results.map((r) => r[key]).sort((a, b) => a - b)[Math.floor(results.length / 2)];
  console.log(
    JSON.stringify(
      {
        artifact: `${entry.file}${entry.externalData ? ` + ${entry.externalData}` : ''}`,
        artifactMB: +(entry.bytes / 1e6).toFixed(1),
        runs: results,
        medianColdMs: median('coldMs'),
        medianWarmShortMs: median('warmShortMedianMs'),
        medianOneFullMs: median('oneFullMs'),
        medianBatch8FullMs: median('batch8FullMs'),
      },
      null,
      2,
    ),
  );
} finally {
  await rm(converted, { recursive: true, force: true });
}
