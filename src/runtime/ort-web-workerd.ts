/**
 * Runs onnxruntime-web inside workerd (Cloudflare Workers) from a WebAssembly module that was
 * compiled at deploy time.
 *
 * Why an adapter is needed: workerd forbids compiling WebAssembly at run time
 * (`WebAssembly.compile` / `WebAssembly.instantiate(bytes)` fail with "Wasm code generation
 * disallowed by embedder"); only modules imported as `import m from './x.wasm'` exist, already
 * compiled, and may be instantiated with `WebAssembly.instantiate(module, imports)`.
 * onnxruntime-web 1.30.0 has no option that takes a compiled `WebAssembly.Module`: its
 * `env.wasm.wasmBinary` takes bytes, and its Emscripten glue then calls
 * `WebAssembly.instantiate(new Uint8Array(wasmBinary), imports)`. The glue does honour Emscripten's
 * `Module.instantiateWasm` hook, but ORT builds the Module object itself and passes no hook through.
 *
 * So: `env.wasm.wasmBinary` is set to a small marker ArrayBuffer (which also makes ORT pick the
 * Emscripten glue embedded in its bundle instead of `import()`-ing it from `import.meta.url`, which
 * is undefined in workerd), and while ORT initializes, `WebAssembly.instantiate` is wrapped so that
 * the one call whose bytes are a view of that marker instantiates the precompiled module with the
 * glue's imports instead. Every other call goes to the original function; the wrapper is removed
 * as soon as ORT is initialized.
 *
 * This depends on the glue of onnxruntime-web 1.30.0 (dist/ort.wasm.bundle.min.mjs, whose .wasm is
 * dist/ort-wasm-simd-threaded.wasm), which is why the version is checked: a different version may
 * load its binary differently and must be re-verified in workerd (test/worker) before use.
 *
 * The module is runtime-neutral TypeScript (no workerd types); the Worker passes in its
 * onnxruntime-web namespace and its compiled module.
 */
import type * as OrtWebNamespace from 'onnxruntime-web/wasm';

import { CoromError } from '../errors.js';

/** The onnxruntime-web namespace as imported from 'onnxruntime-web/wasm'. */
export type OrtWeb = typeof OrtWebNamespace;
export type OrtSession = OrtWebNamespace.InferenceSession;
export type OrtSessionOptions = OrtWebNamespace.InferenceSession.SessionOptions;

/** The onnxruntime-web release whose WebAssembly loading this adapter was verified against. */
export const SUPPORTED_ORT_WEB_VERSION = '1.30.0';

/** The .wasm file that belongs to 'onnxruntime-web/wasm' (ort.wasm.bundle.min.mjs): CPU only, SIMD, no JSEP/WebGPU. */
export const ORT_WEB_WASM_FILE = 'ort-wasm-simd-threaded.wasm';

export interface WorkerdOrt {
  readonly ort: OrtWeb;
  /**
   * Creates a session from model bytes; the first call also instantiates ORT's WebAssembly.
   * `options.externalData` ([{ path, data }], the weights of a graph saved with ONNX external data)
   * is passed through as bytes, never fetched: verified in workerd by test/worker/edge-limits.test.ts.
   */
  createSession(model: Uint8Array, options?: OrtSessionOptions): Promise<OrtSession>;
  /**
   * Size in bytes of ORT's WebAssembly linear memory, or undefined before the first session.
   * WebAssembly memory only grows, so this is also the peak since the isolate started.
   */
  wasmMemoryBytes(): number | undefined;
  /** ORT's WebAssembly linear memory, once initialized (for the low-memory loader). */
  wasmMemory(): WebAssembly.Memory | undefined;
  /**
   * ORT's Emscripten module object (what onnxruntime-web's internal getInstance() returns), once
   * initialized: the low-memory loader (./ort-web-low-memory.ts) allocates the model buffer with
   * its malloc and keeps it alive through its free. Captured while ORT initializes, see
   * captureEmscriptenModule.
   */
  emscriptenModule(): EmscriptenModule | undefined;
}

/** The members of ORT's Emscripten module the low-memory loader uses (pinned by test/runtime). */
export interface EmscriptenModule {
  _malloc(size: number): number;
  _free(pointer: number): void;
  HEAP8: Int8Array;
  HEAPU8: Uint8Array;
  HEAP32: Int32Array;
  HEAPU32: Uint32Array;
}

interface AdapterState {
  handle: WorkerdOrt;
  wasmModule: WebAssembly.Module;
}

// ORT's WebAssembly runtime is a per-isolate singleton, so is this adapter.
let state: AdapterState | undefined;

/**
 * Configures onnxruntime-web for workerd (one thread, no proxy worker, binary from `wasmModule`)
 * and returns the way to create sessions. Calling it again returns the same adapter.
 */
export function ortWebForWorkerd(ort: OrtWeb, wasmModule: WebAssembly.Module): WorkerdOrt {
  if (state !== undefined) {
    if (state.handle.ort !== ort || state.wasmModule !== wasmModule) {
      throw new CoromError('onnxruntime-web was already set up for workerd with another module in this isolate');
    }
    return state.handle;
  }
  const version = ort.env.versions.web;
  if (version !== SUPPORTED_ORT_WEB_VERSION) {
    throw new CoromError(
      `onnxruntime-web ${version ?? '(unknown version)'} is not supported in workerd; ` +
        `the WebAssembly loading adapter was verified with ${SUPPORTED_ORT_WEB_VERSION} only`,
    );
  }

  // workerd has no threads for WebAssembly (no Web Workers), so ORT must not start pthread
  // workers; with 1 thread the glue never calls `new Worker`.
  ort.env.wasm.numThreads = 1;
  // The proxy option would run ORT in a Web Worker, which workerd does not have.
  ort.env.wasm.proxy = false;
  // A marker, not the binary: see the file comment. Its content is never compiled.
  const marker = new ArrayBuffer(8);
  ort.env.wasm.wasmBinary = marker;

  let memory: WebAssembly.Memory | undefined;
  let emscripten: EmscriptenModule | undefined;
  let initialized = false;
  let creating: Promise<unknown> = Promise.resolve();

  const instantiateFromModule = async (
    imports: WebAssembly.Imports | undefined,
  ): Promise<WebAssembly.WebAssemblyInstantiatedSource> => {
    const instance = await originalInstantiate(wasmModule, imports);
    memory = findMemory(imports, instance);
    return { module: wasmModule, instance };
  };

  const createSession = async (model: Uint8Array, options?: OrtSessionOptions): Promise<OrtSession> => {
    if (initialized) {
      return ort.InferenceSession.create(model, options);
    }
    // The first session initializes ORT's WebAssembly; sessions created at the same time wait for
    // it so the wrapper is installed exactly once.
    const previous = creating;
    let done!: () => void;
    creating = new Promise<void>((resolve) => (done = resolve));
    await previous;
    try {
      if (initialized) {
        return await ort.InferenceSession.create(model, options);
      }
      const restore = wrapInstantiate(marker, instantiateFromModule);
      const stopCapture = captureEmscriptenModule(marker, (module) => (emscripten = module));
      try {
        const session = await ort.InferenceSession.create(model, options);
        initialized = true;
        return session;
      } catch (error) {
        throw explainInitFailure(error);
      } finally {
        stopCapture();
        restore();
      }
    } finally {
      done();
    }
  };

  const handle: WorkerdOrt = {
    ort,
    createSession,
    wasmMemoryBytes: () => memory?.buffer.byteLength,
    wasmMemory: () => memory,
    emscriptenModule: () => emscripten,
  };
  state = { handle, wasmModule };
  return handle;
}

const originalInstantiate = WebAssembly.instantiate.bind(WebAssembly) as (
  module: WebAssembly.Module,
  imports?: WebAssembly.Imports,
) => Promise<WebAssembly.Instance>;

/**
 * Replaces WebAssembly.instantiate until `restore()`: a call whose source is the marker buffer (or
 * a view of it, which is what the glue passes) is answered by `fromModule`; all others pass through.
 */
function wrapInstantiate(
  marker: ArrayBuffer,
  fromModule: (imports: WebAssembly.Imports | undefined) => Promise<WebAssembly.WebAssemblyInstantiatedSource>,
): () => void {
  const original = WebAssembly.instantiate;
  const wrapped = function (this: unknown, source: unknown, imports?: WebAssembly.Imports): Promise<unknown> {
    const bytes = source instanceof ArrayBuffer ? source : ArrayBuffer.isView(source) ? source.buffer : undefined;
    if (bytes === marker) {
      return fromModule(imports);
    }
    return (original as (...args: unknown[]) => Promise<unknown>).call(WebAssembly, source, imports);
  };
  WebAssembly.instantiate = wrapped as typeof WebAssembly.instantiate;
  return () => {
    WebAssembly.instantiate = original;
  };
}

/**
 * onnxruntime-web passes Emscripten a plain config object ({ numThreads, wasmBinary, locateFile })
 * that becomes the module, and keeps the module private. The glue reads `Module.instantiateWasm`
 * once while starting; the config object has no such property, so the read reaches
 * Object.prototype, where a getter defined only for the duration of ORT's initialization sees
 * the module as `this` (recognized by its `wasmBinary` being our marker) and answers undefined,
 * so the glue goes on exactly as without it.
 */
function captureEmscriptenModule(marker: ArrayBuffer, found: (module: EmscriptenModule) => void): () => void {
  const key = 'instantiateWasm';
  const previous = Object.getOwnPropertyDescriptor(Object.prototype, key);
  if (previous) return () => {};
  Object.defineProperty(Object.prototype, key, {
    configurable: true,
    enumerable: false,
    get(this: { wasmBinary?: unknown }) {
      if (this?.wasmBinary === marker) found(this as unknown as EmscriptenModule);
      return undefined;
    },
  });
  return () => {
    delete (Object.prototype as Record<string, unknown>)[key];
  };
}

/** The glue creates the (shared) linear memory in JS and imports it; older builds export it instead. */
function findMemory(imports: WebAssembly.Imports | undefined, instance: WebAssembly.Instance): WebAssembly.Memory | undefined {
  for (const moduleImports of Object.values(imports ?? {})) {
    for (const value of Object.values(moduleImports)) {
      if (value instanceof WebAssembly.Memory) return value;
    }
  }
  for (const value of Object.values(instance.exports)) {
    if (value instanceof WebAssembly.Memory) return value;
  }
  return undefined;
}

function explainInitFailure(error: unknown): unknown {
  const message = error instanceof Error ? error.message : String(error);
  if (message.includes('disallowed by embedder')) {
    return new CoromError(
      'onnxruntime-web tried to compile WebAssembly at run time, which workerd forbids; ' +
        `its loader no longer goes through the precompiled ${ORT_WEB_WASM_FILE} module`,
      { cause: error },
    );
  }
  return error;
}
