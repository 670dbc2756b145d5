import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../helpers/cli.js';
import { closedPort, fixtureRepo, startFakeHub, type FakeHub } from './fake-hub.js';

const BASE_ID = 'iic/nlp_corom_sentence-embedding_chinese-base';

let home: string;
let hub: FakeHub | undefined;

beforeEach(async () => {
  home = await mkdtemp(path.join(tmpdir(), 'corom-cli-test-'));
});
afterEach(async () => {
  await hub?.close();
  hub = undefined;
  await rm(home, { recursive: true, force: true });
});

/** `corom` in-process with this test's home and one quick hub retry. */
function corom(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return runCli(args, '', { COROM_HOME: home, COROM_HUB_RETRIES: '1', COROM_HUB_BACKOFF_MS: '1', ...env });
}

function expectOneCleanLine(stderr: string): void {
  const lines = stderr.split('\n').filter((l) => l !== '');
  expect(lines, stderr).toHaveLength(1);
  expect(stderr).not.toMatch(/^\s+at /m);
  expect(stderr).not.toContain('internal error');
}

describe('corom fetch (CLI)', () => {
  it('fetches and converts, printing the converted folder on stdout', async () => {
    hub = await startFakeHub({ models: { [BASE_ID]: fixtureRepo() } });
    const { code, stdout, stderr } = await corom(['fetch', 'corom-base', '--hub', hub.url, '--dtype', 'int8']);
    expect(code, stderr).toBe(0);
    expect(stdout).toBe(path.join(home, 'models', BASE_ID, 'onnx') + '\n');
    expect(stderr).toContain('corom-base: downloaded');
    expect(stderr).toContain('converted: int8');
  });

  it('a model the hub does not have: one line, non-zero exit', async () => {
    hub = await startFakeHub({ models: {} });
    const { code, stdout, stderr } = await corom(['fetch', 'corom-base', '--hub', hub.url]);
    expect(code).not.toBe(0);
    expect(stdout).toBe('');
    expectOneCleanLine(stderr);
    expect(stderr).toBe(`corom fetch: model ${BASE_ID} not found on ${hub.url} (hub says: model not found)\n`);
  });

  it('an unreachable hub: one line, non-zero exit, bounded retries', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const { code, stderr } = await corom(['fetch', 'corom-tiny'], { COROM_HUB_URL: url });
    expect(code).toBe(69);
    expectOneCleanLine(stderr);
    // Bounded: exactly two attempts (the backoff delays themselves are checked in units.test.ts).
    expect(stderr).toBe(`corom fetch: cannot reach the model hub at ${url}: connection refused (2 attempts)\n`);
  });

  it('bad flags are usage errors (exit 2, one line)', async () => {
    for (const args of [
      ['fetch', '--dtype', 'fp16'],
      ['fetch', '--hub', 'ftp://example.com'],
      ['fetch', '--hub-layout', 'github'],
      ['fetch', 'not a model'],
      ['fetch', '--no-convert', '--dtype', 'int8'],
    ]) {
      const { code, stderr } = await corom(args);
      expect(code, args.join(' ')).toBe(2);
      expectOneCleanLine(stderr);
    }
  });
});

describe('corom models', () => {
  it('lists the registry and shows what is cached with which dtypes', async () => {
    const empty = await corom(['models']);
    expect(empty.code).toBe(0);
    expect(empty.stdout).toMatch(/^corom-base\s+iic\/nlp_corom_sentence-embedding_chinese-base\s+embedding\s+zh\s+768\s+12\s+-$/m);
    expect(empty.stdout).toMatch(/^corom-english-base\s+iic\/nlp_corom_sentence-embedding_english-base\s+embedding\s+en\s+768/m);

    hub = await startFakeHub({ models: { [BASE_ID]: fixtureRepo() } });
    expect((await corom(['fetch', '--hub', hub.url, '--dtype', 'int8,q4'])).code).toBe(0);
    const listed = await corom(['models']);
    expect(listed.stdout).toMatch(/^corom-base\s+\S+\s+embedding\s+zh\s+768\s+12\s+int8,q4$/m);

    const json = JSON.parse((await corom(['models', '--json'])).stdout) as Array<{ name: string; dtypes: string[]; path: string | null }>;
    const base = json.find((m) => m.name === 'corom-base')!;
    expect(base.dtypes).toEqual(['int8', 'q4']);
    expect(base.path).toBe(path.join(home, 'models', BASE_ID, 'onnx'));
    expect(json.find((m) => m.name === 'corom-tiny')!.dtypes).toEqual([]);
  });
});

describe('corom upload-r2', () => {
  it('uploads the external data file of an external-data artifact under its own name', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'corom-r2-ext-'));
    expect((await corom(['convert', 'test/fixtures/tiny-bert', dir, '--dtype', 'q4', '--external-data'])).code).toBe(0);
    const dry = await corom(['upload-r2', dir, '--key', 'models/tiny', '--dry-run'], { COROM_WRANGLER: 'wrangler' });
    expect(dry.code, dry.stderr).toBe(0);
    const keys = dry.stdout.trim().split('\n').map((l) => l.split(' ')[4]);
    expect(keys).toEqual(expect.arrayContaining(['corom-models/models/tiny/model.q4.onnx', 'corom-models/models/tiny/model.q4.onnx.data', 'corom-models/models/tiny/corom.json']));
  });

  it('prints the wrangler commands for the q4 artifact, and runs them', async () => {
    hub = await startFakeHub({ models: { [BASE_ID]: fixtureRepo() } });
    expect((await corom(['fetch', '--hub', hub.url, '--dtype', 'int8'])).code).toBe(0);
    const onnx = path.join(home, 'models', BASE_ID, 'onnx');

    // q4 is missing: converted from the cached checkpoint, without the hub.
    await hub.close();
    hub = undefined;
    const dry = await corom(['upload-r2', 'corom-base', '--bucket', 'my-models', '--dry-run'], { COROM_WRANGLER: 'wrangler' });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout.trim().split('\n')).toEqual([
      `wrangler r2 object put my-models/models/corom-base/model.q4.onnx --file ${onnx}/model.q4.onnx --content-type application/octet-stream --remote`,
      `wrangler r2 object put my-models/models/corom-base/model.q4.onnx.data --file ${onnx}/model.q4.onnx.data --content-type application/octet-stream --remote`,
      `wrangler r2 object put my-models/models/corom-base/vocab.txt --file ${onnx}/vocab.txt --content-type 'text/plain; charset=utf-8' --remote`,
      `wrangler r2 object put my-models/models/corom-base/corom.json --file ${onnx}/corom.json --content-type application/json --remote`,
    ]);

    // A stand-in wrangler records its arguments, so the spawn path runs for real.
    const log = path.join(home, 'wrangler.log');
    const fake = path.join(home, 'fake-wrangler.sh');
    await writeFile(fake, `#!/bin/sh\necho "$@" >> '${log}'\n`);
    await chmod(fake, 0o755);
    const run = await corom(['upload-r2', '--key', 'edge/v1', '--local'], { COROM_WRANGLER: fake });
    expect(run.code, run.stderr).toBe(0);
    const calls = (await readFile(log, 'utf8')).trim().split('\n');
    expect(calls).toHaveLength(4);
    expect(calls[0]).toBe(`r2 object put corom-models/edge/v1/model.q4.onnx --file ${onnx}/model.q4.onnx --content-type application/octet-stream --local`);

    const failing = path.join(home, 'failing-wrangler.sh');
    await writeFile(failing, '#!/bin/sh\nexit 3\n');
    await chmod(failing, 0o755);
    const failed = await corom(['upload-r2'], { COROM_WRANGLER: failing });
    expect(failed.code).toBe(1);
    expect(failed.stderr.trim().split('\n').at(-1)).toMatch(/^corom upload-r2: wrangler failed \(exit 3\): /);
  });

  it('says what to do when the model is not cached', async () => {
    const { code, stderr } = await corom(['upload-r2', 'corom-tiny', '--dry-run']);
    expect(code).toBe(1);
    expectOneCleanLine(stderr);
    expect(stderr).toContain(`run 'corom fetch corom-tiny' first`);
  });
});
