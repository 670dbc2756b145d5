/**
 * Time of one rerank query x 20 passages for a rerank model (cross-encoder) in the isolate, in
 * real workerd: the tiny-ranker fixture (test/fixtures/tiny-ranker) converted, put into local R2
 * under models/tiny-ranker/, then POST /v1/text-ranking with one query and 20 passages (the
 * fixture's passages repeated: short and 128-token pairs), after one warm-up request: the client-side
 * time, and the CPU time of every workerd process of the run across the request
 * (scripts/lib/workerd-cpu.ts, /proc schedstat: the Worker's isolate plus wrangler's dev proxy, so
 * an upper bound of what the Worker is billed). Not a test; run it by hand (Linux):
 *
 *   node --import tsx test/worker/measure-ranker.ts [--dtype fp32|int8|q4] [--runs 15]
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import type { Dtype } from '../../src/engine/types.js';
import { convertCheckpoint } from '../../src/store/convert.js';
import type { ConvertedMetadata } from '../../src/store/metadata.js';
import { RANKER_CASES, RANKER_DIR } from '../helpers/ranker-fixture.js';
import { allWorkerdCpuNs } from '../../scripts/lib/workerd-cpu.js';
import { startWorkerd } from './workerd-harness.js';

const { values: flags } = parseArgs({ options: { dtype: { type: 'string', default: 'fp32' }, runs: { type: 'string', default: '15' } } });
const dtype = flags.dtype as Dtype;
const runs = Number(flags.runs);
const PASSAGES = 20;

const converted = await mkdtemp(join(tmpdir(), 'corom-ranker-workerd-'));
try {
  await convertCheckpoint(RANKER_DIR, converted, { dtype });
  const meta = JSON.parse(await readFile(join(converted, 'corom.json'), 'utf8')) as ConvertedMetadata;
  const entry = meta.dtypes[dtype]!;
  const objects: Record<string, Uint8Array> = {};
  for (const file of ['corom.json', 'vocab.txt', entry.file, ...(entry.externalData ? [entry.externalData] : [])]) {
    objects[`models/tiny-ranker/${file}`] = await readFile(join(converted, file));
  }
  const all = RANKER_CASES.flatMap((c) => c.sentences_to_compare);
  const passages = Array.from({ length: PASSAGES }, (_, i) => all[i % all.length]!);
  const query = RANKER_CASES[0]!.source_sentence[0]!;

  const worker = await startWorkerd({ objects, vars: { MODEL_ID: 'tiny-ranker', MODEL_PREFIX: 'models/tiny-ranker/', MODEL_DTYPE: dtype }, requestTimeoutMs: 120_000 });
  try {
    const cpu: number[] = [];
    const once = async () => {
      const before = await allWorkerdCpuNs();
      const response = await worker.postJson('/v1/text-ranking', { input: { source_sentence: [query], sentences_to_compare: passages } });
      cpu.push((await allWorkerdCpuNs()) - before);
      if (response.status !== 200 || response.body.scores?.length !== PASSAGES) throw new Error(`answered ${response.status}: ${JSON.stringify(response.body).slice(0, 300)}`);
      return response.ms;
    };
    const coldMs = await once();
    const coldCpuMs = cpu[0]! / 1e6;
    const warm: number[] = [];
    for (let i = 0; i < runs; i++) warm.push(await once());
    warm.sort((a, b) => a - b);
    const warmCpu = cpu.slice(1).map((ns) => ns / 1e6).sort((a, b) => a - b);
    const tokens = (await worker.postJson('/v2/rerank', { query, documents: passages })).body.usage.total_tokens as number;
    console.log(
      JSON.stringify(
        {
          model: `tiny-ranker (${meta.layers} layers, hidden ${meta.hidden}), ${entry.file}`,
          request: `1 query x ${PASSAGES} passages, ${tokens} tokens in all`,
          coldMs: Math.round(coldMs),
          warmRuns: runs,
          warmMedianMs: +warm[Math.floor(runs / 2)]!.toFixed(1),
          warmMinMs: +warm[0]!.toFixed(1),
          warmMaxMs: +warm[runs - 1]!.toFixed(1),
          coldCpuMs: +coldCpuMs.toFixed(1),
          warmCpuMedianMs: +warmCpu[Math.floor(runs / 2)]!.toFixed(1),
          warmCpuMinMs: +warmCpu[0]!.toFixed(1),
          warmCpuMaxMs: +warmCpu[runs - 1]!.toFixed(1),
        },
        null,
        2,
      ),
    );
  } finally {
    await worker.dispose();
  }
} finally {
  await rm(converted, { recursive: true, force: true });
}
