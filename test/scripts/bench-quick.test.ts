/**
 * `npm run bench -- --quick` and `scripts/edge-memory.ts --quick` run end to end on the tiny
 * fixture, so the benchmark scripts never rot. Their numbers mean nothing and are not asserted;
 * the structure of what they write is.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

/** A figure the script measured: present, finite, positive. Its size is never compared. */
function expectMeasured(value: unknown, what: string): void {
  expect(typeof value === 'number' && Number.isFinite(value) && value > 0, `${what} = ${String(value)}`).toBe(true);
}

describe('benchmark scripts in quick mode', () => {
  it('bench.ts --quick measures every section and writes the report', async () => {
    const out = await mkdtemp(join(tmpdir(), 'corom-bench-test-'));
    await run(process.execPath, ['--import', 'tsx', 'scripts/bench.ts', '--quick', '--out', out], { timeout: 240_000, maxBuffer: 1 << 24 });
    const json = JSON.parse(await readFile(join(out, 'benchmarks.json'), 'utf8'));
    expect(json.quick).toBe(true);
    for (const dtype of ['fp32', 'int8']) {
      expectMeasured(json.engine[dtype].ours.textsPerSec.median, `engine.${dtype}.ours`);
      expectMeasured(json.engine[dtype].transformersJs.textsPerSec.median, `engine.${dtype}.transformersJs`);
    }
    expect(json.engine.int8CosineToFp32.min).toBeGreaterThan(0.99);
    expectMeasured(json.wasm.slowdown, 'wasm.slowdown');
    expectMeasured(json.http.batchingRps.median, 'http.batchingRps');
    expectMeasured(json.http.noBatchingRps.median, 'http.noBatchingRps');
    for (const mode of ['batching', 'no-batching']) for (const r of json.http.runs[mode]) expect({ errors: r.errors, non2xx: r.non2xx }).toEqual({ errors: 0, non2xx: 0 });
    expectMeasured(json.tokenizer.ratio, 'tokenizer.ratio');
    expectMeasured(json.roofline.fp32Peak.median, 'roofline.fp32Peak');
    for (const dtype of ['fp32', 'int8']) {
      expectMeasured(json.ranker[dtype].ours.median, `ranker.${dtype}.ours`);
      expectMeasured(json.ranker[dtype].transformersJs.median, `ranker.${dtype}.transformersJs`);
      // Same ONNX file on both sides: the same logits on pairs neither side truncates.
      expect(json.ranker[dtype].maxAbsLogitDiff).toBeLessThan(1e-3);
    }
    // Rerank through the server is measured only when the server reports a ranker (kind "rerank");
    // otherwise the report says why, never a number from the cosine fallback.
    if (json.ranker.http.unavailable !== undefined) expect(json.ranker.http.unavailable).toMatch(/rerank|ranker/);
    else {
      expectMeasured(json.ranker.http.requestsPerSec.median, 'ranker.http.requestsPerSec');
      for (const r of json.ranker.http.runs) expect({ errors: r.errors, non2xx: r.non2xx }).toEqual({ errors: 0, non2xx: 0 });
    }
    const md = await readFile(join(out, 'benchmarks.md'), 'utf8');
    expect(md).toContain('Quick mode');
    expect(md).toContain('## 5. Roofline');
    expect(md).toContain('## 6. Cross-encoder ranker');
  }, 300_000);

  it('edge-memory.ts --quick measures every artifact variant', async () => {
    const out = await mkdtemp(join(tmpdir(), 'corom-edge-mem-test-'));
    await run(process.execPath, ['--import', 'tsx', 'scripts/edge-memory.ts', '--quick', '--out', out], { timeout: 240_000, maxBuffer: 1 << 24 });
    const json = JSON.parse(await readFile(join(out, 'edge-memory.json'), 'utf8'));
    expect(json.rows.length).toBeGreaterThanOrEqual(5);
    for (const row of json.rows) {
      expectMeasured(row.wasmPeakMB, 'wasmPeakMB');
      expectMeasured(row.fileMB, 'fileMB');
      expect(row.cosineToFp32Min).toBeGreaterThan(0.9);
    }
  }, 300_000);
});
