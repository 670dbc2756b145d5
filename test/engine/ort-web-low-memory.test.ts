/**
 * The low-memory onnxruntime-web loader (src/runtime/ort-web-low-memory.ts) depends on internals
 * of onnxruntime-web 1.30.0. These tests fail loudly when one changes, and check the loader end
 * to end: ORT-format shards read in chunks into WASM memory, chained on onnxruntime-web as the
 * Worker runs them, give the vectors of the unsplit int8 model on onnxruntime-node.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadEngine } from '../../src/engine/load.js';
import { convertCheckpoint } from '../../src/store/convert.js';
import { convertShards } from '../../src/store/shards.js';
import onnxProto from 'onnx-proto';
import { createLowMemorySession, IDENTITY_MODEL_BASE64, initializeOrt, type LowMemorySession } from '../../src/runtime/ort-web-low-memory.js';
import { SUPPORTED_ORT_WEB_VERSION } from '../../src/runtime/ort-web-workerd.js';
import { ortWebWorkerdInNode } from '../../src/runtime/ort-web-workerd-node.js';
import { ShardChainEmbedder } from '../../src/runtime/shard-runner.js';
import { loadTokenizer } from '../../src/tokenizer/load.js';
import { cosine, FIXTURE_DIR, maxAbsDiff } from '../helpers/fixture.js';

const require = createRequire(import.meta.url);
// The package exports no ./package.json: go up from the .wasm it does export.
const ORT_WEB_DIR = dirname(dirname(require.resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm')));
const WORKER_SESSION_OPTIONS = { executionProviders: ['wasm'], graphOptimizationLevel: 'all', enableCpuMemArena: false, enableMemPattern: false } as const;

function chunked(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let o = 0; o < bytes.length; o += size) out.push(bytes.subarray(o, o + size));
  return out;
}

describe('onnxruntime-web internals the low-memory loader relies on (pinned)', () => {
  it('is exactly onnxruntime-web 1.30.0', async () => {
    const pkg = JSON.parse(await readFile(join(ORT_WEB_DIR, 'package.json'), 'utf8'));
    expect(pkg.version).toBe('1.30.0');
    expect(SUPPORTED_ORT_WEB_VERSION).toBe('1.30.0');
    expect(pkg.exports['./wasm'].import.default).toBe('./dist/ort.wasm.bundle.min.mjs');
  });

  it('has the Emscripten glue shapes the loader reads', async () => {
    const glue = await readFile(join(ORT_WEB_DIR, 'dist/ort.wasm.bundle.min.mjs'), 'utf8');
    // The module hook read once at start-up, through which the module object is captured.
    expect(glue).toContain('return t.instantiateWasm?new Promise(');
    // malloc/free and the heap views live on that module object.
    expect(glue).toContain('er=t._free=s.vb,tr=t._malloc=s.wb');
    expect(glue).toContain('t.HEAP8=H=new Int8Array(e),pe=new Int16Array(e),t.HEAPU8=ne=new Uint8Array(e)');
    expect(glue).toContain('t.HEAP32=B=new Int32Array(e),t.HEAPU32=W=new Uint32Array(e)');
    // emscripten_resize_heap: 1.2x, 1.1x, 1.05x attempts (tight growth refuses the first two),
    // and the only call that grows the memory.
    expect(glue).toContain('for(var i=1;4>=i;i*=2){var s=r*(1+.2/i);s=Math.min(s,e+100663296)');
    expect(glue.match(/\.grow\(/g)).toHaveLength(1);
    // createSession: no copy of a model already in the heap; the model buffer freed in `finally`;
    // use_ort_model_bytes_directly set by default.
    const core = await readFile(join(ORT_WEB_DIR, 'lib/wasm/wasm-core-impl.ts'), 'utf8');
    expect(core).toContain('} else if (modelData.buffer === wasm.HEAPU8.buffer) {');
    expect(core).toMatch(/\} finally \{\n\s+wasm\._free\(modelDataOffset\);/);
    const sessionOptions = await readFile(join(ORT_WEB_DIR, 'lib/wasm/session-options.ts'), 'utf8');
    expect(sessionOptions).toContain("session.use_ort_model_bytes_directly = '1';");
  });

  it('starts ORT with a one-node Identity model kept as bytes (no protobuf encoder in the Worker)', () => {
    const model = onnxProto.onnx.ModelProto.decode(Buffer.from(IDENTITY_MODEL_BASE64, 'base64'));
    const graph = model.graph!;
    expect(graph.node!.map((n) => [n.opType, n.input, n.output])).toEqual([['Identity', ['x'], ['y']]]);
    for (const [io, name] of [[graph.input!, 'x'], [graph.output!, 'y']] as const) {
      expect(io).toHaveLength(1);
      expect(io[0]!.name).toBe(name);
      expect(io[0]!.type!.tensorType!.elemType).toBe(onnxProto.onnx.TensorProto.DataType.FLOAT);
      expect(io[0]!.type!.tensorType!.shape!.dim!.map((d) => Number(d.dimValue))).toEqual([1]);
    }
    expect(graph.initializer).toHaveLength(0);
    expect(Number(model.opsetImport.find((o) => o.domain === '')?.version)).toBe(17);
  });

  it('exposes the module and memory once initialized', async () => {
    const runtime = await ortWebWorkerdInNode();
    await initializeOrt(runtime);
    const module = runtime.emscriptenModule()!;
    const memory = runtime.wasmMemory()!;
    expect(typeof module._malloc).toBe('function');
    expect(typeof module._free).toBe('function');
    for (const view of [module.HEAP8, module.HEAPU8, module.HEAP32, module.HEAPU32]) expect(view.buffer).toBe(memory.buffer);
    // The instantiateWasm getter is gone once ORT is initialized.
    expect(Object.getOwnPropertyDescriptor(Object.prototype, 'instantiateWasm')).toBeUndefined();
  });
});

describe('low-memory loader', () => {
  it('loads ORT-format shards in place, keeps their buffers, and chains to the unsplit int8 vectors', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'corom-lowmem-'));
    await convertCheckpoint(FIXTURE_DIR, dir, { dtype: 'int8' });
    const { set } = await convertShards(FIXTURE_DIR, dir, { dtype: 'int8', shards: 2, ortFormat: true });
    const runtime = await ortWebWorkerdInNode();
    await initializeOrt(runtime);
    const module = runtime.emscriptenModule()!;
    const memory = runtime.wasmMemory()!;
    const reserve = memory.buffer.byteLength + 8 * 65536 + 100;

    const loaded: LowMemorySession[] = [];
    for (const shard of set.shards) {
      const bytes = new Uint8Array(await readFile(join(dir, shard.ortFile!)));
      // A model read straight into the heap is never copied: no malloc of its size in createSession.
      const malloc = module._malloc;
      const sizes: number[] = [];
      module._malloc = (n: number) => (sizes.push(n), malloc(n));
      try {
        loaded.push(await createLowMemorySession(runtime, chunked(bytes, 4096), { byteLength: bytes.length, ortFormat: true, reserveBytes: reserve, sessionOptions: WORKER_SESSION_OPTIONS }));
      } finally {
        module._malloc = malloc;
      }
      expect(sizes.filter((n) => n === bytes.length)).toHaveLength(1);
      // The buffer the initializers point into survived createSession's free: still the file's bytes.
      const kept = new Uint8Array(memory.buffer, loaded.at(-1)!.modelPointer, bytes.length);
      expect(maxAbsDiff(kept.subarray(0, 4096), bytes.subarray(0, 4096))).toBe(0);
      expect(Buffer.compare(Buffer.from(kept), Buffer.from(bytes))).toBe(0);
    }
    // Grown once, up front, to the page above the reserve.
    expect(memory.buffer.byteLength).toBe(Math.ceil(reserve / 65536) * 65536);

    const engine = await loadEngine({ model: dir, dtype: 'int8', backend: 'node', threads: 1 });
    const chain = new ShardChainEmbedder(engine.info, loaded.map((l) => l.session), set, runtime.ort.Tensor as never, { maxBatchSize: 1, maxBatchTokens: 128 });
    const tok = await loadTokenizer(dir);
    const texts = ['今天天气怎么样', '北京是中国的首都', '测'.repeat(200)];
    try {
      const actual = await chain.embedTokens(texts.map((t) => tok.encode(t, 128)));
      let worstCos = 1;
      let worstAbs = 0;
      for (const [i, text] of texts.entries()) {
        const [expected] = await engine.embed([text]);
        worstCos = Math.min(worstCos, cosine(actual[i]!, expected!));
        worstAbs = Math.max(worstAbs, maxAbsDiff(actual[i]!, expected!));
      }
      // WASM and native int8 kernels round differently (the native one may use VNNI/AVX2 paths).
      console.log(`tiny fixture, 2 ORT-format shards on onnxruntime-web vs unsplit int8 on onnxruntime-node: min cosine ${worstCos.toFixed(7)}, max abs diff ${worstAbs.toExponential(2)}`);
      expect(worstCos).toBeGreaterThanOrEqual(0.9999);
      expect(worstAbs).toBeLessThan(1e-2);
    } finally {
      await engine.close();
      for (const l of loaded) await l.release();
    }
  });

  it('refuses a model whose length does not match what was announced', async () => {
    const runtime = await ortWebWorkerdInNode();
    await initializeOrt(runtime);
    await expect(createLowMemorySession(runtime, [new Uint8Array(10)], { byteLength: 20, ortFormat: true })).rejects.toThrow(/has 10 bytes, 20 were announced/);
    await expect(createLowMemorySession(runtime, [new Uint8Array(30)], { byteLength: 20, ortFormat: true })).rejects.toThrow(/longer than the 20 bytes/);
  });
});
