/**
 * The model store's one stamp: a converted folder is stale when the source weights change, not when
 * they are only touched or copied (src/store/stamp.ts), for `corom fetch` and the engine's loader alike.
 */
import { cp, mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertIfStale } from '../../src/store/convert.js';
import { readConvertedMetadata, writeConvertedMetadata } from '../../src/store/files.js';
import { checkWeights, sha256File, stampWeights } from '../../src/store/stamp.js';
import { FIXTURE_DIR } from '../helpers/fixture.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'corom-stale-test-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function setMtime(file: string, seconds: number): Promise<void> {
  await utimes(file, seconds, seconds);
}

describe('checkWeights', () => {
  it('is fresh for the same file, stale for new bytes of the same size, and settles a touch by the hash', async () => {
    const file = path.join(root, 'model.safetensors');
    await writeFile(file, 'weights-A');
    await setMtime(file, 1_700_000_000);
    const recorded = await stampWeights(file);
    expect(recorded).toMatchObject({ file: 'model.safetensors', size: 9, mtimeMs: 1_700_000_000_000, sha256: await sha256File(file) });

    expect(await checkWeights(recorded, file)).toEqual({ state: 'fresh' });

    await setMtime(file, 1_700_000_100); // touched: same bytes, new mtime
    const touched = await checkWeights(recorded, file);
    expect(touched).toEqual({ state: 'touched', stamp: { ...recorded, mtimeMs: 1_700_000_100_000 } });

    await writeFile(file, 'weights-B'); // same size, other bytes
    expect(await checkWeights(recorded, file)).toEqual({ state: 'stale' });

    await writeFile(file, 'weights-A-longer');
    await setMtime(file, 1_700_000_000); // a different size is stale whatever the mtime says
    expect(await checkWeights(recorded, file)).toEqual({ state: 'stale' });

    expect(await checkWeights(undefined, file)).toEqual({ state: 'stale' });
    expect(await checkWeights({ ...recorded, file: 'pytorch_model.bin' }, file)).toEqual({ state: 'stale' });
  });
});

describe('convertIfStale', () => {
  it('converts once, not again when the weights are touched, and again when they change', async () => {
    const src = path.join(root, 'checkpoint');
    const out = path.join(root, 'converted');
    await cp(FIXTURE_DIR, src, { recursive: true });
    const weights = path.join(src, 'pytorch_model.bin');
    let conversions = 0;
    const run = () => convertIfStale(src, out, { dtype: 'fp32' }, { source: 'fixture', beforeConvert: () => conversions++ });

    const first = await run();
    expect(first.converted?.dtype).toBe('fp32');
    expect(first.meta.source).toBe('fixture');
    expect(first.meta.weights).toMatchObject({ file: 'pytorch_model.bin', size: (await stat(weights)).size, sha256: await sha256File(weights) });
    const graph = await stat(path.join(out, 'model.fp32.onnx'));

    const again = await run();
    expect(again.converted).toBeUndefined();
    expect(conversions).toBe(1);

    // A copy without -p, a checkout: the same bytes under a new mtime are not converted again,
    // and the new mtime is recorded so the next check needs no hash.
    const later = Math.floor(Date.now() / 1000) + 3600;
    await setMtime(weights, later);
    const touched = await run();
    expect(touched.converted).toBeUndefined();
    expect(conversions).toBe(1);
    expect((await readConvertedMetadata(out))?.weights?.mtimeMs).toBe(later * 1000);
    expect((await stat(path.join(out, 'model.fp32.onnx'))).mtimeMs).toBe(graph.mtimeMs);

    // Weights that changed (recorded hash no longer matches, same size): converted again.
    const meta = (await readConvertedMetadata(out))!;
    await writeConvertedMetadata(out, { ...meta, weights: { ...meta.weights!, mtimeMs: 0, sha256: '0'.repeat(64) } });
    expect((await run()).converted?.dtype).toBe('fp32');
    expect(conversions).toBe(2);
    expect((await readConvertedMetadata(out))?.weights?.sha256).toBe(await sha256File(weights));

    // A folder converted before the stamp existed (no `weights`) is converted once more.
    const { weights: _dropped, ...old } = (await readConvertedMetadata(out))!;
    await writeConvertedMetadata(out, old);
    expect((await run()).converted).toBeDefined();
    expect(conversions).toBe(3);
  });

  it('converts a missing dtype while keeping the ones made from the same weights', async () => {
    const src = path.join(root, 'checkpoint');
    const out = path.join(root, 'converted');
    await convertIfStale(src, out, { dtype: 'int8' });
    const meta = (await readConvertedMetadata(out))!;
    expect(Object.keys(meta.dtypes).sort()).toEqual(['fp32', 'int8']);
    // A graph file deleted by hand is noticed and rewritten.
    await rm(path.join(out, 'model.int8.onnx'));
    expect((await convertIfStale(src, out, { dtype: 'int8' })).converted?.dtype).toBe('int8');
    expect(JSON.parse(await readFile(path.join(out, 'corom.json'), 'utf8')).dtypes.fp32).toBeDefined();
  });
});
