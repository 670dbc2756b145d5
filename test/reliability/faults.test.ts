/**
 * Faults: a broken model at start, inference throwing mid-batch, and `corom fetch` killed with
 * SIGKILL mid-file. (Dropped connections, Range resume, sha mismatches and retries of the hub
 * client are covered by test/hub/fetch.test.ts; see docs/reliability.md.)
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sumMetric } from '../../scripts/reliability/prometheus.js';
import { cleanEnv, fixtureModel, removeFixtureModel, spawnCorom } from '../../scripts/reliability/serve-child.js';
import type { Engine } from '../../src/engine/engine.js';
import { loadEngine } from '../../src/engine/load.js';
import { createApp } from '../../src/http/app.js';
import { servedEngine, type EngineLike } from '../../src/core/served-model.js';
import { listen, type RunningServer } from '../../src/node/http-server.js';
import { fixtureRepo, startFakeHub, type FakeHub } from '../hub/fake-hub.js';
import { expectNoLeak } from './expectations.js';
import { expectQueueDrains, expectServes, metricsText } from './service-probe.js';
import { startThrottledProxy, type ThrottledProxy } from './throttled-proxy.js';

const scratch: string[] = [];
afterAll(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
  removeFixtureModel();
});
function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  scratch.push(dir);
  return dir;
}

describe('a broken model at start: one clear line, non-zero exit', () => {
  /** A copy of the converted fixture, damaged by `damage`. */
  async function brokenModel(damage: (dir: string) => void): Promise<string> {
    const dir = tempDir('corom-broken-model-');
    cpSync(await fixtureModel(), dir, { recursive: true });
    damage(dir);
    return dir;
  }
  const onnx = (dir: string): string => join(dir, 'model.fp32.onnx');
  const CASES: Array<{ name: string; damage: (dir: string) => void; names: RegExp }> = [
    { name: 'model file missing', damage: (d) => unlinkSync(onnx(d)), names: /model\.fp32\.onnx: file not found/ },
    { name: 'model file empty', damage: (d) => truncateSync(onnx(d), 0), names: /model\.fp32\.onnx: onnxruntime cannot load it/ },
    { name: 'model file truncated to a third', damage: (d) => truncateSync(onnx(d), Math.floor(statSync(onnx(d)).size / 3)), names: /model\.fp32\.onnx: onnxruntime cannot load it/ },
    {
      name: 'model file corrupt (graph bytes flipped)',
      damage: (d) => {
        const bytes = readFileSync(onnx(d));
        for (let i = 16; i < 4096; i += 7) bytes[i] = bytes[i]! ^ 0x5a;
        writeFileSync(onnx(d), bytes);
      },
      names: /model\.fp32\.onnx: onnxruntime cannot load it/,
    },
    { name: 'model file replaced by text', damage: (d) => writeFileSync(onnx(d), 'version https://git-lfs.github.com/spec/v1\noid sha256:0\nsize 1\n'), names: /model\.fp32\.onnx: onnxruntime cannot load it/ },
    { name: 'corom.json corrupt', damage: (d) => writeFileSync(join(d, 'corom.json'), '{"format": 1, '), names: /corom\.json: invalid JSON/ },
    { name: 'vocab.txt missing', damage: (d) => unlinkSync(join(d, 'vocab.txt')), names: /vocab\.txt/ },
  ];

  it.concurrent.each(CASES)('$name', async (c) => {
    const dir = await brokenModel(c.damage);
    const run = spawnCorom(['serve', '--model', dir, '--dtype', 'fp32', '--host', '127.0.0.1', '--port', '0', '--threads', '1']);
    const exit = await run.exit;
    expect(exit.code, run.stderr()).not.toBe(0);
    expect(exit.code).not.toBeNull();
    const lines = run.stderr().trim().split('\n');
    expect(lines, run.stderr()).toHaveLength(1);
    expect(lines[0]).toMatch(/^corom serve: /);
    expect(lines[0]).toMatch(c.names);
    expect(run.stderr()).not.toMatch(/^\s+at |internal error| ready: /m);
    expect(run.stdout()).toBe('');
  });
});

describe('inference throwing mid-batch (fault injector around the engine)', () => {
  /** Texts that make the wrapped backend fail, one per way of failing. */
  const MARKERS = {
    rejects: '故障注入一号',
    throwsSynchronously: '故障注入二号',
    returnsTooFewVectors: '故障注入三号',
    rejectsWithANonError: '故障注入四号',
  } as const;

  let engine: Engine;
  let server: RunningServer;
  const logs: string[] = [];

  beforeAll(async () => {
    engine = await loadEngine({ model: await fixtureModel(), dtype: 'fp32', threads: 1 });
    const markerKeys = new Map(Object.entries(MARKERS).map(([kind, text]) => [engine.tokenize([text])[0]!.join(','), kind]));
    // The real engine, except that a batch holding a marker text fails the way the marker says.
    const faulty: EngineLike = {
      info: engine.info,
      tokenizer: engine.tokenizer,
      tokenize: (texts) => engine.tokenize(texts),
      embedTokens(ids) {
        const kind = ids.map((s) => markerKeys.get(s.join(','))).find((k) => k !== undefined);
        if (kind === 'rejects') return Promise.reject(new Error('injected: onnxruntime Run() failed: bad allocation in /work/secret/path.ts:12'));
        if (kind === 'throwsSynchronously') throw new Error('injected: synchronous failure');
        if (kind === 'returnsTooFewVectors') return engine.embedTokens(ids.slice(1));
        if (kind === 'rejectsWithANonError') return Promise.reject('injected: a string, not an Error');
        return engine.embedTokens(ids);
      },
    };
    const app = createApp({ models: [servedEngine(faulty)], batching: { maxBatchSize: 8 }, log: (line) => logs.push(line) });
    server = await listen(app, { host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await server?.close(1000);
    await engine?.close();
  });

  it("fails exactly the requests in a failing batch, with a 500 naming each one's request id; every other request gets correct vectors", async () => {
    const sentences = ['吃完海鲜可以喝牛奶吗?', '功和功率的区别', '什么是桥', '福鼎在哪个市', '不可以，早晨喝牛奶不科学', '桥是一种连接两岸的建筑'];
    const markers = Object.values(MARKERS);
    const requests = Array.from({ length: 64 }, (_, i) => {
      const texts = Array.from({ length: 1 + (i % 7) }, (_, j) => `${sentences[(i + j) % sentences.length]}${i}-${j}`);
      const faulty = i % 5 === 0;
      if (faulty) texts.splice(i % texts.length, 0, markers[(i / 5) % markers.length]!);
      return { texts, faulty };
    });
    const answers = await Promise.all(
      requests.map(async (r) => {
        const res = await fetch(`${server.url}v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ input: r.texts, encoding_format: 'float' }) });
        return { ...r, status: res.status, id: res.headers.get('x-request-id')!, body: await res.text() };
      }),
    );

    // The server's log names the request ids of every failed batch.
    const failedBatches = logs.filter((l) => l.startsWith('inference failed'));
    expect(failedBatches.length).toBeGreaterThan(0);
    const inFailedBatch = new Set(failedBatches.flatMap((l) => /request ids ([^)]*)\)/.exec(l)![1]!.split(' ')));
    expect(await metricsText(server.url).then((m) => sumMetric(m, 'corom_inference_failures_total'))).toBe(failedBatches.length);

    let unaffected = 0;
    for (const a of answers) {
      expectNoLeak(a.body, a.texts.join('|'));
      if (a.faulty) expect(a.status, a.body).toBe(500);
      if (a.status === 500) {
        const error = JSON.parse(a.body) as { error: { message: string; type: string; code: string } };
        expect(error.error).toMatchObject({ type: 'server_error', code: 'inference_failed', param: null });
        expect(error.error.message).toContain(`request id ${a.id}`);
        expect(error.error.message).not.toMatch(/injected|onnxruntime|\/work/);
        expect(inFailedBatch.has(a.id), `${a.id} got a 500 but was in no failed batch`).toBe(true);
        continue;
      }
      expect(a.status, a.body).toBe(200);
      expect(inFailedBatch.has(a.id), `${a.id} was in a failed batch but got 200`).toBe(false);
      const vectors = (JSON.parse(a.body) as { data: { embedding: number[] }[] }).data.map((d) => d.embedding);
      const reference = await engine.embed(a.texts, { normalize: true });
      expect(vectors).toHaveLength(a.texts.length);
      vectors.forEach((v, i) => v.forEach((x, k) => expect(Math.abs(x - reference[i]![k]!)).toBeLessThan(1e-5)));
      unaffected++;
    }
    // Other batches went on: most normal requests were in batches without a marker.
    expect(unaffected).toBeGreaterThan(requests.filter((r) => !r.faulty).length / 2);
    // The cause stays in the server log, never in a response.
    expect(failedBatches.join('\n')).toMatch(/injected/);

    await expectServes(server.url, 'failed batches');
    await expectQueueDrains(server.url);
  });
});

describe('corom fetch killed with SIGKILL mid-file', () => {
  const BASE_ID = 'iic/nlp_corom_sentence-embedding_chinese-base';
  let hub: FakeHub;
  let proxy: ThrottledProxy;
  beforeAll(async () => {
    hub = await startFakeHub({ models: { [BASE_ID]: fixtureRepo() } });
    // 32 KB every 10 ms: the 2.9 MB weights take ~1 s, long enough to be caught mid-file.
    proxy = await startThrottledProxy(hub.url, { match: (url) => url.includes('pytorch_model.bin'), bytesPerTick: 32 * 1024, tickMs: 10 });
  });
  afterAll(async () => {
    await proxy?.close();
    await hub?.close();
  });

  it('leaves only a .part file that nothing mistakes for the model; the rerun resumes it with a Range request and verifies it', async () => {
    const home = tempDir('corom-kill9-home-');
    const env = cleanEnv({ COROM_HOME: home, COROM_HUB_RETRIES: '1', COROM_HUB_BACKOFF_MS: '1' });
    const source = join(home, 'models', BASE_ID, 'source');
    const weights = join(source, 'pytorch_model.bin');
    const expectedBytes = readFileSync(join('test/fixtures/tiny-bert', 'pytorch_model.bin'));

    const first = spawnCorom(['fetch', 'corom-base', '--hub', proxy.url, '--dtype', 'fp32', '--quiet'], env);
    const deadline = performance.now() + 20_000;
    let partBytes = 0;
    while ((partBytes = existsSync(`${weights}.part`) ? statSync(`${weights}.part`).size : 0) < expectedBytes.length / 4) {
      expect(first.child.exitCode, `corom fetch ended before it could be killed:\n${first.stderr()}`).toBeNull();
      expect(performance.now()).toBeLessThan(deadline);
      await new Promise((r) => setTimeout(r, 5));
    }
    first.child.kill('SIGKILL');
    expect((await first.exit).signal).toBe('SIGKILL');

    // Nothing looks complete: no weights file, a strictly partial .part, no converted model.
    expect(existsSync(weights)).toBe(false);
    const leftBytes = statSync(`${weights}.part`).size;
    expect(leftBytes).toBeGreaterThan(0);
    expect(leftBytes).toBeLessThan(expectedBytes.length);
    const onnxDir = join(home, 'models', BASE_ID, 'onnx');
    expect(existsSync(onnxDir) ? readdirSync(onnxDir).filter((f) => f.endsWith('.onnx') || f === 'corom.json') : []).toEqual([]);

    // Offline, `corom serve` does not load the partial download: it tries to fetch and says why it cannot.
    const offline = spawnCorom(['serve', '--model', 'corom-base', '--dtype', 'fp32', '--port', '0'], { ...env, COROM_HUB_URL: 'http://127.0.0.1:9', COROM_HUB_RETRIES: '0' });
    expect((await offline.exit).code).not.toBe(0);
    expect(offline.stderr()).not.toMatch(/ ready: |^\s+at /m);
    expect(offline.stderr()).toMatch(/cannot reach the model hub/);

    // The rerun takes over the dead process's lock, resumes from the .part, verifies the sha256 and converts.
    hub.requests.length = 0;
    const second = spawnCorom(['fetch', 'corom-base', '--hub', hub.url, '--dtype', 'fp32', '--quiet'], env);
    const exit = await second.exit;
    expect(exit.code, second.stderr()).toBe(0);
    expect(second.stdout().trim()).toBe(onnxDir);
    const ranges = hub.fileRequests('pytorch_model.bin').map((r) => r.range);
    expect(ranges).toHaveLength(1);
    expect(Number(/^bytes=(\d+)-$/.exec(ranges[0] ?? '')?.[1])).toBeGreaterThan(0);
    expect(createHash('sha256').update(readFileSync(weights)).digest('hex')).toBe(createHash('sha256').update(expectedBytes).digest('hex'));
    expect(existsSync(`${weights}.part`)).toBe(false);
    expect(existsSync(join(home, 'models', BASE_ID, '.lock'))).toBe(false);
    expect(readdirSync(onnxDir)).toContain('model.fp32.onnx');
  }, 60_000);
});
