import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CoromError, ModelFileError } from '../../src/errors.js';
import { fetchModel } from '../../src/hub/fetch-model.js';
import { resolveDefaultModel } from '../../src/hub/resolve.js';
import { closedPort, FIXTURE_DIR, fixtureRepo, memoryStream, startFakeHub, type FakeHub } from './fake-hub.js';

const BASE_ID = 'iic/nlp_corom_sentence-embedding_chinese-base';

let home: string;
let hub: FakeHub | undefined;

beforeEach(async () => {
  home = await mkdtemp(path.join(tmpdir(), 'corom-resolve-test-'));
});
afterEach(async () => {
  await hub?.close();
  hub = undefined;
  await rm(home, { recursive: true, force: true });
});

async function unreachableHub(): Promise<string> {
  return `http://127.0.0.1:${await closedPort()}`;
}

const fastEnv = { COROM_HUB_RETRIES: '1', COROM_HUB_BACKOFF_MS: '1' };

describe('resolveDefaultModel', () => {
  it('returns the folder COROM_MODEL points at, without touching the network', async () => {
    const env = { COROM_HOME: home, COROM_MODEL: FIXTURE_DIR, COROM_HUB_URL: await unreachableHub(), ...fastEnv };
    expect(await resolveDefaultModel({ env, stderr: memoryStream() })).toBe(FIXTURE_DIR);
    const relative = path.relative(process.cwd(), FIXTURE_DIR);
    expect(await resolveDefaultModel({ env: { ...env, COROM_MODEL: relative }, stderr: memoryStream() })).toBe(FIXTURE_DIR);
  });

  it('rejects a COROM_MODEL that is a file, an empty folder, or neither a folder nor a model name', async () => {
    const stderr = memoryStream();
    const base = { COROM_HOME: home, COROM_HUB_URL: await unreachableHub(), ...fastEnv };
    await expect(resolveDefaultModel({ env: { ...base, COROM_MODEL: path.join(FIXTURE_DIR, 'config.json') }, stderr })).rejects.toThrow(ModelFileError);
    await expect(resolveDefaultModel({ env: { ...base, COROM_MODEL: home }, stderr })).rejects.toThrow(/neither a converted model folder/);
    await expect(resolveDefaultModel({ env: { ...base, COROM_MODEL: '/no/such/model' }, stderr })).rejects.toThrow(
      'COROM_MODEL=/no/such/model: no such folder, and not a known model name',
    );
  });

  it('offline with nothing cached: one clear CoromError saying how to provide the model', async () => {
    const hubUrl = await unreachableHub();
    const failure = await resolveDefaultModel({ env: { COROM_HOME: home, COROM_HUB_URL: hubUrl, ...fastEnv }, stderr: memoryStream() }).catch(
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(CoromError);
    const message = (failure as Error).message;
    expect(message).not.toContain('\n');
    expect(message).toContain(`corom-base is not cached in ${home}`);
    expect(message).toContain(`cannot reach the model hub at ${hubUrl}`);
    expect(message).toContain('COROM_MODEL=/path/to/model');
    expect(message).toContain(`'corom fetch corom-base'`);
    expect(message).toContain('COROM_HUB_URL');
  });

  it('fetches and converts corom-base on first use, then serves it from the cache', async () => {
    hub = await startFakeHub({ models: { [BASE_ID]: fixtureRepo() } });
    const env = { COROM_HOME: home, COROM_HUB_URL: hub.url, ...fastEnv };
    const stderr = memoryStream();
    const dir = await resolveDefaultModel({ env, stderr });
    expect(dir).toBe(path.join(home, 'models', BASE_ID, 'onnx'));
    expect(stderr.text()).toContain('downloading pytorch_model.bin');
    // fp32 by default, as `corom serve` loads (issue 14, item 13).
    expect(stderr.text()).toContain('model.fp32.onnx');

    await hub.close();
    hub = undefined;
    const offline = { ...env, COROM_HUB_URL: await unreachableHub() };
    expect(await resolveDefaultModel({ env: offline, stderr: memoryStream() })).toBe(dir);
    // A dtype not converted yet comes from the cached checkpoint, still offline.
    expect(await resolveDefaultModel({ env: offline, stderr: memoryStream(), dtype: 'int8' })).toBe(dir);
    // COROM_MODEL may name a registry model as well.
    expect(await resolveDefaultModel({ env: { ...offline, COROM_MODEL: 'corom-base' }, stderr: memoryStream() })).toBe(dir);
  });

  it('converts a checkpoint fetched with --no-convert without going online', async () => {
    hub = await startFakeHub({ models: { [BASE_ID]: fixtureRepo() } });
    await fetchModel({ env: { COROM_HOME: home }, stderr: memoryStream(), hubUrl: hub.url, dtypes: [] });
    await hub.close();
    hub = undefined;
    const dir = await resolveDefaultModel({ env: { COROM_HOME: home, COROM_HUB_URL: await unreachableHub(), ...fastEnv }, stderr: memoryStream() });
    expect(dir).toBe(path.join(home, 'models', BASE_ID, 'onnx'));
  });
});
