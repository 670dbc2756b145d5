/**
 * Runs one artifact on onnxruntime-web in a fresh child process (WASM memory only grows and the
 * ORT module is a per-process singleton, so each measurement needs its own process) and returns
 * its peak memory, timings and the vectors of a sample.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

export interface WasmPeak {
  wasmPeakBytes: number;
  jsHeapPeakBytes: number;
  loadMs: number;
  batchMs: number;
  vectors: Float32Array[];
}

export async function measureWasmPeak(model: Uint8Array, externalData: { path: string; data: Uint8Array } | undefined, worstBatch: Int32Array[], sample: Int32Array[]): Promise<WasmPeak> {
  const dir = await mkdtemp(join(tmpdir(), 'corom-wasm-peak-'));
  await writeFile(join(dir, 'model.onnx'), model);
  if (externalData) await writeFile(join(dir, 'external.data'), externalData.data);
  await writeFile(join(dir, 'input.json'), JSON.stringify({ externalPath: externalData?.path, worstBatch: worstBatch.map((a) => Array.from(a)), sample: sample.map((a) => Array.from(a)) }));
  const child = fileURLToPath(new URL('./wasm-peak-child.ts', import.meta.url));
  await promisify(execFile)(process.execPath, ['--import', 'tsx', child, dir], { maxBuffer: 1 << 26 });
  const out = JSON.parse(await readFile(join(dir, 'output.json'), 'utf8'));
  return { ...out, vectors: (out.vectors as number[][]).map((v) => Float32Array.from(v)) };
}
