/**
 * corom-edge/langchain inside real workerd: wrangler bundles test/langchain/worker-entry.ts (which
 * imports the integration's index, so no Node-only module may be reachable from it) and the Worker
 * calls a corom app on 127.0.0.1 through global fetch. Its vectors must be the engine's.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Engine } from '../../src/engine/engine.js';
import { loadEngine } from '../../src/engine/load.js';
import { createApp, servedEngine } from '../../src/http/index.js';
import { convertedFixture, EXPECTED, FIXTURE_SENTENCES, maxAbsDiff } from '../helpers/fixture.js';
import { startTestPeer, type TestPeer } from './test-peer.js';

process.env.WRANGLER_SEND_METRICS = 'false';
process.env.CLOUDFLARE_CF_FETCH_ENABLED = 'false';
process.env.WRANGLER_LOG ??= 'warn';
const { unstable_startWorker } = await import('wrangler');

const TEXTS = FIXTURE_SENTENCES;
const QUERY = EXPECTED[0]!.source_sentence[0]!;

let engine: Engine;
let peer: TestPeer;
let persist: string | undefined;
let worker: Awaited<ReturnType<typeof unstable_startWorker>> | undefined;

beforeAll(async () => {
  engine = await loadEngine({ model: await convertedFixture('fp32') });
  peer = await startTestPeer([], createApp({ models: [servedEngine(engine)] }));
  persist = await mkdtemp(join(tmpdir(), 'corom-langchain-workerd-'));
  // A config of its own: without one wrangler reads the project's wrangler.toml, whose service
  // bindings (the shard Workers) resolve nowhere here and stop workerd from starting.
  const config = join(persist, 'wrangler.toml');
  await writeFile(config, `name = "corom-langchain-test"\nmain = ${JSON.stringify(fileURLToPath(new URL('./worker-entry.ts', import.meta.url)))}\ncompatibility_date = "2026-04-01"\n`);
  worker = await unstable_startWorker({
    config,
    name: 'corom-langchain-test',
    entrypoint: fileURLToPath(new URL('./worker-entry.ts', import.meta.url)),
    compatibilityDate: '2026-04-01',
    sendMetrics: false,
    bindings: { COROM_URL: { type: 'plain_text', value: peer.url } },
    dev: { remote: false, persist, server: { hostname: '127.0.0.1', port: 0 }, inspector: false, watch: false, logLevel: 'warn' },
  });
  await worker.ready;
}, 60_000);

afterAll(async () => {
  await worker?.dispose();
  await peer?.close();
  await engine?.close();
  if (persist) await rm(persist, { recursive: true, force: true });
});

test('remote mode works in a Worker and in-process mode says it needs Node', async () => {
  const response = await fetch(new URL('/', await worker!.url), {
    method: 'POST',
    body: JSON.stringify({ texts: TEXTS, query: QUERY }),
    signal: AbortSignal.timeout(30_000),
  });
  expect(response.status).toBe(200);
  const body = (await response.json()) as { mode: string; vectors: number[][]; ranked: Array<{ index: number; relevanceScore: number }>; inProcess: string };
  expect(body.mode).toBe('remote');
  const expected = await engine.embed(TEXTS, { normalize: true });
  body.vectors.forEach((v, i) => expect(maxAbsDiff(v, expected[i]!)).toBeLessThan(1e-5));
  const [q] = await engine.embed([QUERY], { normalize: true });
  const order = expected
    .map((v, i) => ({ i, s: v.reduce((acc, x, j) => acc + x * q![j]!, 0) }))
    .sort((a, b) => b.s - a.s || a.i - b.i)
    .slice(0, 3)
    .map((r) => r.i);
  expect(body.ranked.map((r) => r.index)).toEqual(order);
  expect(body.inProcess).toContain('in-process coROM needs Node.js');
});
