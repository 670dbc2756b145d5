/** Child process of wasm-peak.ts: measures one artifact on onnxruntime-web. */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

// Capture every WebAssembly.Memory onnxruntime-web creates (its threaded build creates the memory
// in JS and imports it) or exports, before it is imported.
const memories = new Set<WebAssembly.Memory>();
const NativeMemory = WebAssembly.Memory;
(WebAssembly as { Memory: unknown }).Memory = new Proxy(NativeMemory, {
  construct(target, args: [WebAssembly.MemoryDescriptor]) {
    const memory = new target(...args);
    memories.add(memory);
    return memory;
  },
});
const record = (result: unknown): unknown => {
  const r = result as WebAssembly.WebAssemblyInstantiatedSource | WebAssembly.Instance;
  const instance = 'instance' in r ? r.instance : r;
  for (const value of Object.values(instance.exports)) if (value instanceof NativeMemory) memories.add(value);
  return result;
};
const originalInstantiate = WebAssembly.instantiate.bind(WebAssembly);
const originalStreaming = WebAssembly.instantiateStreaming?.bind(WebAssembly);
(WebAssembly as { instantiate: unknown }).instantiate = async (...args: unknown[]) => record(await (originalInstantiate as (...a: unknown[]) => Promise<unknown>)(...args));
if (originalStreaming) {
  (WebAssembly as { instantiateStreaming: unknown }).instantiateStreaming = async (...args: unknown[]) =>
    record(await (originalStreaming as (...a: unknown[]) => Promise<unknown>)(...args));
}

const dir = process.argv[2]!;
// The Worker's batch limits (worker/isolate-model.ts WORKER_BATCH_LIMITS): 1024 padded tokens.
const WORKER_LIMITS = { maxBatchTokens: 1024, maxBatchSize: 32 };
const { worstBatch, sample, externalPath } = JSON.parse(await readFile(join(dir, 'input.json'), 'utf8')) as { worstBatch: number[][]; sample: number[][]; externalPath?: string };
const { createWasmEmbedder } = await import('../../src/runtime/ort-web.js');

// Start the ORT WASM runtime with a one-node graph first, so the baseline already holds what a
// Worker gets for free (the runtime's JS and, under Node only, the .wasm file bytes it reads).
{
  const { GraphBuilder, TensorType } = await import('../../src/onnx/graph-builder.js');
  const ort = await import('onnxruntime-web');
  const g = new GraphBuilder();
  g.node('Identity', [g.input('x', TensorType.FLOAT, [1])], 'y');
  g.output('y', TensorType.FLOAT, [1]);
  const warm = await ort.InferenceSession.create(g.serialize({}));
  await warm.release();
}

const jsBytes = (): number => {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};
global.gc?.();
const baseline = jsBytes();
let jsPeak = 0;
const sampleJs = (): void => {
  jsPeak = Math.max(jsPeak, jsBytes() - baseline);
};

const started = performance.now();
let bytes: Uint8Array | undefined = await readFile(join(dir, 'model.onnx'));
let external = externalPath ? [{ path: externalPath, data: await readFile(join(dir, 'external.data')) as Uint8Array }] : [];
sampleJs();
const embedder = await createWasmEmbedder(bytes, { id: 'edge', dimensions: 0, maxLength: 128, pooling: 'cls', dtype: 'q4', vocabSize: 0 }, { lowMemory: true, limits: WORKER_LIMITS }, external);
sampleJs();
// The model bytes and external data are necessarily all alive while the session is created.
jsPeak = Math.max(jsPeak, (bytes?.byteLength ?? 0) + external.reduce((n, e) => n + e.data.byteLength, 0));
bytes = undefined;
external = []; // as the Worker does: the model bytes are dropped once the session holds the weights
const loadMs = performance.now() - started;
const t = performance.now();
await embedder.embedTokens(worstBatch.map((a) => Int32Array.from(a)));
const batchMs = performance.now() - t;
sampleJs();
const vectors = await embedder.embedTokens(sample.map((a) => Int32Array.from(a)));
sampleJs();
const wasmPeakBytes = [...memories].reduce((s, m) => s + m.buffer.byteLength, 0);
await writeFile(join(dir, 'output.json'), JSON.stringify({ wasmPeakBytes, jsHeapPeakBytes: jsPeak, loadMs, batchMs, vectors: vectors.map((v) => Array.from(v)) }));
await embedder.close();
