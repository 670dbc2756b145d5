import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ModelFileError } from '../../src/errors.js';
import { HubNotFoundError, HubUnreachableError } from '../../src/hub/errors.js';
import { fetchModel, type FetchModelOptions } from '../../src/hub/fetch-model.js';
import { closedPort, FIXTURE_DIR, fixtureRepo, memoryStream, sha256, startFakeHub, type FakeHub, type HubFile } from './fake-hub.js';

const BASE_ID = 'iic/nlp_corom_sentence-embedding_chinese-base';
const SOURCE_FILES = ['config.json', 'configuration.json', 'vocab.txt', 'pytorch_model.bin'];
const FAST_RETRY = { retries: 3, baseDelayMs: 1, maxDelayMs: 4, stallTimeoutMs: 5000 };

let home: string;
let hub: FakeHub | undefined;

beforeEach(async () => {
  home = await mkdtemp(path.join(tmpdir(), 'corom-hub-test-'));
});
afterEach(async () => {
  await hub?.close();
  hub = undefined;
  await rm(home, { recursive: true, force: true });
});

function options(extra: Partial<FetchModelOptions> = {}): FetchModelOptions {
  return { model: 'corom-base', env: { COROM_HOME: home }, stderr: memoryStream(), hubUrl: hub?.url, retry: FAST_RETRY, ...extra };
}

const sourceDir = (): string => path.join(home, 'models', 'iic', 'nlp_corom_sentence-embedding_chinese-base', 'source');
const onnxDir = (): string => path.join(home, 'models', 'iic', 'nlp_corom_sentence-embedding_chinese-base', 'onnx');

async function fixtureSha(name: string): Promise<string> {
  return sha256(await readFile(path.join(FIXTURE_DIR, name)));
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(() => true, () => false);
}

async function allFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

describe('fetchModel against a ModelScope-layout hub', () => {
  it('downloads, verifies and converts corom-base to fp32 (the serving default) and q4, then reuses the cache offline', async () => {
    hub = await startFakeHub({ models: { [BASE_ID]: fixtureRepo() } });
    const stderr = memoryStream();
    const result = await fetchModel(options({ stderr }));

    expect(result.id).toBe('corom-base');
    expect(result.layout).toBe('modelscope');
    expect(result.revision).toBe('master');
    expect(result.downloaded.sort()).toEqual([...SOURCE_FILES].sort());
    for (const name of SOURCE_FILES) {
      expect(sha256(await readFile(path.join(sourceDir(), name))), name).toBe(await fixtureSha(name));
    }
    // Only the files a conversion needs were requested, README / .gitattributes / resources were not.
    const fileRequests = hub.requests.filter((r) => r.url.includes('FilePath='));
    expect(fileRequests.map((r) => new URL(r.url, 'http://h').searchParams.get('FilePath')).sort()).toEqual([...SOURCE_FILES].sort());
    expect((await allFiles(home)).filter((f) => f.endsWith('.part'))).toEqual([]);

    expect(result.converted).toEqual(['fp32', 'q4']);
    expect(result.dtypes).toEqual(['fp32', 'q4']);
    const meta = JSON.parse(await readFile(path.join(onnxDir(), 'corom.json'), 'utf8'));
    expect(meta.hidden).toBe(32);
    expect(meta.pooling).toBe('cls');
    expect(Object.keys(meta.dtypes).sort()).toEqual(['fp32', 'q4']);
    expect((await stat(path.join(onnxDir(), 'model.fp32.onnx'))).size).toBeGreaterThan(1000);
    expect((await stat(path.join(onnxDir(), 'model.q4.onnx'))).size).toBeGreaterThan(1000);
    expect(await readFile(path.join(onnxDir(), 'vocab.txt'))).toEqual(await readFile(path.join(FIXTURE_DIR, 'vocab.txt')));
    // Non-TTY stderr gets plain progress lines, not a bar.
    expect(stderr.text()).toContain('downloading pytorch_model.bin (2.7 MiB)');
    expect(stderr.text()).not.toContain('\r');

    // Second run: everything cached, no request at all, nothing converted again.
    const before = hub.requests.length;
    const again = await fetchModel(options());
    expect(again.downloaded).toEqual([]);
    expect(again.converted).toEqual([]);
    expect(again.dtypes).toEqual(['fp32', 'q4']);
    expect(hub.requests.length).toBe(before);

    // Asking for another dtype converts only that one, still offline.
    await hub.close();
    hub = undefined;
    const more = await fetchModel(options({ hubUrl: `http://127.0.0.1:${await closedPort()}`, dtypes: ['int8'] }));
    expect(more.converted).toEqual(['int8']);
    expect(more.dtypes).toEqual(['fp32', 'int8', 'q4']);
  });

  it('produces an fp32 model that reproduces the fixture reference embeddings', async () => {
    hub = await startFakeHub({ models: { [BASE_ID]: fixtureRepo() } });
    const result = await fetchModel(options({ dtypes: ['fp32'] }));
    const { loadEngine } = await import('../../src/engine/load.js');
    const cases = JSON.parse(await readFile(path.join(FIXTURE_DIR, 'expected.json'), 'utf8')) as Array<{
      source_sentence: string[];
      text_embedding: number[][];
    }>;
    const firstCase = cases[0]!;
    const engine = await loadEngine({ model: result.onnxDir, dtype: 'fp32' });
    try {
      const [vector] = await engine.embed([firstCase.source_sentence[0]!]);
      const reference = firstCase.text_embedding[0]!;
      expect(vector!.length).toBe(reference.length);
      for (let i = 0; i < reference.length; i++) expect(Math.abs(vector![i]! - reference[i]!)).toBeLessThan(1e-4);
    } finally {
      await engine.close();
    }
  });

  it('resumes a file whose connection dropped mid-way with a Range request', async () => {
    hub = await startFakeHub({
      models: { [BASE_ID]: fixtureRepo() },
      behaviours: { 'pytorch_model.bin': { dropAfter: { bytes: 1_000_000, times: 1 } } },
    });
    const result = await fetchModel(options({ dtypes: [] }));
    const requests = hub.fileRequests('pytorch_model.bin');
    expect(requests).toHaveLength(2);
    expect(requests[0]!.range).toBeUndefined();
    const resumedAt = Number(/^bytes=(\d+)-$/.exec(requests[1]!.range ?? '')?.[1]);
    expect(resumedAt).toBeGreaterThan(0);
    expect(resumedAt).toBeLessThanOrEqual(1_000_000);
    expect(result.downloaded).toContain('pytorch_model.bin');
    expect(sha256(await readFile(path.join(sourceDir(), 'pytorch_model.bin')))).toBe(await fixtureSha('pytorch_model.bin'));
    expect(await exists(path.join(sourceDir(), 'pytorch_model.bin.part'))).toBe(false);
  });

  it('starts over when the server ignores Range (200 instead of 206)', async () => {
    hub = await startFakeHub({
      models: { [BASE_ID]: fixtureRepo() },
      behaviours: { 'pytorch_model.bin': { dropAfter: { bytes: 700_000, times: 1 }, ignoreRange: true } },
    });
    const stderr = memoryStream();
    await fetchModel(options({ dtypes: [], stderr }));
    const requests = hub.fileRequests('pytorch_model.bin');
    expect(requests).toHaveLength(2);
    expect(requests[1]!.range).toMatch(/^bytes=\d+-$/);
    expect(stderr.text()).toContain('ignored the Range request');
    expect(sha256(await readFile(path.join(sourceDir(), 'pytorch_model.bin')))).toBe(await fixtureSha('pytorch_model.bin'));
  });

  it('continues a .part file left by an interrupted earlier run', async () => {
    hub = await startFakeHub({ models: { [BASE_ID]: fixtureRepo() } });
    const weights = await readFile(path.join(FIXTURE_DIR, 'pytorch_model.bin'));
    await mkdir(sourceDir(), { recursive: true });
    await writeFile(path.join(sourceDir(), 'pytorch_model.bin.part'), weights.subarray(0, 500_000));
    await fetchModel(options({ dtypes: [] }));
    expect(hub.fileRequests('pytorch_model.bin').map((r) => r.range)).toEqual(['bytes=500000-']);
    expect(sha256(await readFile(path.join(sourceDir(), 'pytorch_model.bin')))).toBe(sha256(weights));
  });

  it('rejects a file whose bytes do not match the listed sha256 and keeps nothing of it', async () => {
    hub = await startFakeHub({ models: { [BASE_ID]: fixtureRepo() }, behaviours: { 'vocab.txt': { corrupt: true } } });
    const failure = await fetchModel(options({ dtypes: [] })).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(ModelFileError);
    const message = (failure as Error).message;
    expect(message).toMatch(/^vocab\.txt: sha256 mismatch/);
    expect(message).not.toContain('\n');
    expect(await exists(path.join(sourceDir(), 'vocab.txt'))).toBe(false);
    expect(await exists(path.join(sourceDir(), 'vocab.txt.part'))).toBe(false);
    expect(await exists(path.join(sourceDir(), '.corom-source.json'))).toBe(false);
    expect(await exists(onnxDir())).toBe(false);
  });

  it('retries 5xx answers with backoff and succeeds', async () => {
    hub = await startFakeHub({
      models: { [BASE_ID]: fixtureRepo() },
      behaviours: { 'config.json': { failStatus: { status: 503, times: 2 } } },
    });
    await fetchModel(options({ dtypes: [] }));
    expect(hub.fileRequests('config.json')).toHaveLength(3);
    expect(await readFile(path.join(sourceDir(), 'config.json'))).toEqual(await readFile(path.join(FIXTURE_DIR, 'config.json')));
  });

  it('gives up after a bounded number of retries', async () => {
    hub = await startFakeHub({
      models: { [BASE_ID]: fixtureRepo() },
      behaviours: { 'vocab.txt': { failStatus: { status: 502, times: 1000 } } },
    });
    const failure = await fetchModel(options({ dtypes: [], retry: { ...FAST_RETRY, retries: 2 } })).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(HubUnreachableError);
    expect((failure as Error).message).toContain('vocab.txt');
    expect(hub.fileRequests('vocab.txt')).toHaveLength(3);
    expect(await exists(path.join(sourceDir(), 'vocab.txt'))).toBe(false);
  });

  it("waits for the hub's Retry-After (not the short backoff) before retrying", async () => {
    hub = await startFakeHub({
      models: { [BASE_ID]: fixtureRepo() },
      behaviours: { 'config.json': { failStatus: { status: 429, times: 1, retryAfter: '1' } } },
    });
    const started = Date.now();
    await fetchModel(options({ dtypes: [] }));
    expect(hub.fileRequests('config.json')).toHaveLength(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(990);
  });

  it('gives up at once when Retry-After is longer than corom waits', async () => {
    hub = await startFakeHub({
      models: { [BASE_ID]: fixtureRepo() },
      behaviours: { 'config.json': { failStatus: { status: 503, times: 1000, retryAfter: '3600' } } },
    });
    const failure = await fetchModel(options({ dtypes: [] })).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(HubUnreachableError);
    expect((failure as Error).message).toMatch(/config\.json.*retry after 3600 s, longer than corom waits \(60 s\)/);
    expect(hub.fileRequests('config.json')).toHaveLength(1);
  });

  it('does not retry a 501, which will not change', async () => {
    hub = await startFakeHub({
      models: { [BASE_ID]: fixtureRepo() },
      behaviours: { 'config.json': { failStatus: { status: 501, times: 1000 } } },
    });
    await expect(fetchModel(options({ dtypes: [] }))).rejects.toThrow(/config\.json: the hub answered HTTP 501/);
    expect(hub.fileRequests('config.json')).toHaveLength(1);
  });

  it('falls back to the damo/ alias when the iic/ id is unknown to the hub', async () => {
    hub = await startFakeHub({ models: { 'damo/nlp_corom_sentence-embedding_chinese-base': fixtureRepo() } });
    const result = await fetchModel(options({ model: 'damo/nlp_corom_sentence-embedding_chinese-base', dtypes: [] }));
    expect(result.id).toBe('corom-base');
    expect(result.hubId).toBe(BASE_ID); // cached under the canonical id
    expect(await exists(path.join(sourceDir(), 'pytorch_model.bin'))).toBe(true);
  });

  it('reports an unknown model and an unknown revision as not found', async () => {
    hub = await startFakeHub({ models: { [BASE_ID]: fixtureRepo() } });
    const missing = await fetchModel(options({ model: 'someone/not-a-model' })).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(HubNotFoundError);
    expect((missing as Error).message).toBe(`model someone/not-a-model not found on ${hub.url} (hub says: model not found)`);
    const badRevision = await fetchModel(options({ revision: 'v9.9' })).catch((e: unknown) => e);
    expect(badRevision).toBeInstanceOf(HubNotFoundError);
    expect((badRevision as Error).message).toContain(`revision 'v9.9'`);
  });

  it('prefers model.safetensors over pytorch_model.bin when the hub has both', async () => {
    const safetensors: HubFile = { path: 'model.safetensors', bytes: Buffer.from('not converted in this test') };
    hub = await startFakeHub({ models: { [BASE_ID]: [...fixtureRepo(), safetensors] } });
    const result = await fetchModel(options({ dtypes: [] }));
    expect(result.downloaded).toContain('model.safetensors');
    expect(result.downloaded).not.toContain('pytorch_model.bin');
    expect(hub.fileRequests('pytorch_model.bin')).toHaveLength(0);
  });

  it('accepts a listing without sha256 and still records the file hash', async () => {
    hub = await startFakeHub({ models: { [BASE_ID]: fixtureRepo() }, behaviours: { 'config.json': { unlistedSha: true } } });
    await fetchModel(options({ dtypes: [] }));
    const manifest = JSON.parse(await readFile(path.join(sourceDir(), '.corom-source.json'), 'utf8'));
    const config = manifest.files.find((f: { path: string }) => f.path === 'config.json');
    expect(config.sha256).toBe(await fixtureSha('config.json'));
  });
});

describe('fetchModel against a Hugging Face style mirror', () => {
  it('detects the layout, probes known file names and treats 404 as absent', async () => {
    hub = await startFakeHub({ models: { [BASE_ID]: fixtureRepo() }, layouts: { modelscope: false, huggingface: true } });
    const result = await fetchModel(options({ dtypes: ['int8'] }));
    expect(result.layout).toBe('huggingface');
    expect(result.revision).toBe('main');
    expect(result.downloaded.sort()).toEqual([...SOURCE_FILES].sort());
    expect(hub.fileRequests('tokenizer_config.json')).toHaveLength(1); // probed, 404, skipped
    expect(hub.fileRequests('model.safetensors')).toHaveLength(1);
    for (const name of SOURCE_FILES) {
      expect(sha256(await readFile(path.join(sourceDir(), name))), name).toBe(await fixtureSha(name));
    }
    expect(result.dtypes).toEqual(['int8']);
  });

  it('says when the model is not on the mirror', async () => {
    hub = await startFakeHub({ models: {}, layouts: { modelscope: false, huggingface: true } });
    const failure = await fetchModel(options({ layout: 'huggingface' })).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(HubNotFoundError);
    expect((failure as Error).message).toBe(`model ${BASE_ID} not found on ${hub.url} (no config.json at revision main)`);
  });
});
