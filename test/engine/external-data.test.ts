/** ONNX external data (graph + model.<dtype>.onnx.data) loads on both backends with identical results. */
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadEngine } from '../../src/engine/load.js';
import { convertCheckpoint } from '../../src/store/convert.js';
import { runCli } from '../helpers/cli.js';
import { EMBEDDING_ABS_TOL, EXPECTED, FIXTURE_DIR, maxAbsDiff } from '../helpers/fixture.js';

describe('external data artifacts', () => {
  it('keeps the graph small and the weights in one .data file', async () => {
    const out = await mkdtemp(join(tmpdir(), 'corom-ext-'));
    const r = await runCli(['convert', FIXTURE_DIR, out, '--dtype', 'q4', '--external-data', '--q4-block', '64']);
    expect(r.code, r.stderr).toBe(0);
    expect(await readdir(out)).toEqual(expect.arrayContaining(['model.q4.onnx', 'model.q4.onnx.data']));
    const meta = JSON.parse(await readFile(join(out, 'corom.json'), 'utf8'));
    expect(meta.dtypes.q4.externalData).toBe('model.q4.onnx.data');
    const graph = (await readFile(join(out, 'model.q4.onnx'))).byteLength;
    const data = (await readFile(join(out, 'model.q4.onnx.data'))).byteLength;
    expect(graph).toBeLessThan(data / 20);
    expect(meta.dtypes.q4.bytes).toBe(graph + data);
  });

  for (const backend of ['node', 'wasm'] as const) {
    it(`fp32 with external data equals the reference on ${backend}`, async () => {
      const out = await mkdtemp(join(tmpdir(), 'corom-ext-fp32-'));
      await convertCheckpoint(FIXTURE_DIR, out, { dtype: 'fp32', externalData: true });
      const engine = await loadEngine({ model: out, backend, threads: 1 });
      try {
        const c = EXPECTED[3]!;
        const vectors = await engine.embed([...c.source_sentence, ...c.sentences_to_compare]);
        vectors.forEach((v, i) => expect(maxAbsDiff(v, c.text_embedding[i]!)).toBeLessThan(EMBEDDING_ABS_TOL));
      } finally {
        await engine.close();
      }
    });
  }

  it('a bad --q4-block is a usage error', async () => {
    expect(await runCli(['convert', FIXTURE_DIR, '/tmp/x', '--dtype', 'q4', '--q4-block', '48'])).toMatchObject({ code: 2, stderr: expect.stringContaining('--q4-block must be 16, 32, 64 or 128') });
  });
});
