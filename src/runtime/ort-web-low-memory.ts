/**
 * Creates an onnxruntime-web session with as little memory as a 128 MB isolate needs:
 *
 * 1. The model is read in chunks straight into WASM memory allocated with ORT's own malloc, so no
 *    JS copy of the whole file ever exists (createSession uses a view of its heap as is: it only
 *    copies when `model.buffer !== HEAPU8.buffer`).
 * 2. With an ORT-format model and `session.use_ort_model_bytes_for_initializers = 1`, the
 *    initializers point into that buffer instead of being copied out of it
 *    (onnxruntime-web already sets `use_ort_model_bytes_directly`). But onnxruntime-web's
 *    createSession frees the model buffer in its `finally`; with initializers inside it that
 *    would free the weights under the session. So the module's `_free` is wrapped to skip the
 *    pinned buffer, which is freed when the session is released.
 * 3. Emscripten grows memory to max(requested, 1.2 x current): at 100+ MB that is up to 20 MB
 *    never used. The memory can be grown once, up front, to what the artifact was measured to need
 *    (`reserveBytes`), and later growth is made tight: the glue tries 1.2x, 1.1x, then 1.05x (each
 *    at least what was requested) and gives up only if all fail; failing the first two attempts
 *    leaves growth at most 5% over the need.
 *
 * Each of these relies on an internal of onnxruntime-web 1.30.0; test/runtime/ort-web-low-memory
 * .test.ts pins them and fails if one changes.
 */
import { CoromError } from '../errors.js';
import type { EmscriptenModule, OrtSession, OrtSessionOptions, WorkerdOrt } from './ort-web-workerd.js';

const PAGE = 65536;

export interface LowMemorySessionOptions {
  /** Total bytes of the model; every chunk together must be exactly this long. */
  byteLength: number;
  /** Grow WASM memory to at least this many bytes before loading (the measured need, if known). */
  reserveBytes?: number;
  /** Session options; use_ort_model_bytes_for_initializers is added for ORT-format models. */
  sessionOptions?: OrtSessionOptions;
  /** The model is in ORT format (flatbuffer): its initializers can stay in the model buffer. */
  ortFormat: boolean;
  /** 'tight' (default): growth at most 5% over a request; 'emscripten': the glue's own 1.2x (for comparison). */
  growth?: 'tight' | 'emscripten';
}

export interface LowMemorySession {
  session: OrtSession;
  /** Where the model bytes are in WASM memory (kept until release for ORT-format models). */
  modelPointer: number;
  /** Releases the session, then frees the model buffer its initializers point into. */
  release(): Promise<void>;
}

/** Pointers of model buffers that must outlive createSession, per module. */
const pinned = new WeakMap<EmscriptenModule, Set<number>>();

/** Wraps the module's _free once so that a pinned pointer is not freed (createSession's finally). */
function pinnedSet(module: EmscriptenModule): Set<number> {
  let set = pinned.get(module);
  if (set) return set;
  set = new Set<number>();
  const free = module._free.bind(module);
  const guard = set;
  module._free = (pointer: number) => {
    if (!guard.has(pointer)) free(pointer);
  };
  pinned.set(module, set);
  return set;
}

const tightened = new WeakSet<WebAssembly.Memory>();

/**
 * Makes Emscripten's heap growth tight: its resize function (emscripten_resize_heap) tries
 * growing to max(requested, 1.2x), then 1.1x, then 1.05x of the current size and stops at the
 * first success; the first two attempts of each resize are refused, so growth overshoots the
 * request by at most 5%.
 */
export function tightenGrowth(memory: WebAssembly.Memory): void {
  if (tightened.has(memory)) return;
  tightened.add(memory);
  const grow = memory.grow.bind(memory);
  let attempt = 0;
  Object.defineProperty(memory, 'grow', {
    configurable: true,
    value: (delta: number): number => {
      const index = attempt;
      attempt = (attempt + 1) % 3;
      if (index < 2) throw new RangeError('corom: tight growth refuses the 1.2x and 1.1x attempts');
      attempt = 0;
      return grow(delta);
    },
  });
}

/** Grows `memory` to at least `bytes` now and refreshes the module's heap views. */
export function growTo(module: EmscriptenModule, memory: WebAssembly.Memory, bytes: number): void {
  const current = memory.buffer.byteLength;
  if (bytes <= current) return;
  const proto = Object.getPrototypeOf(memory) as WebAssembly.Memory;
  proto.grow.call(memory, Math.ceil((bytes - current) / PAGE));
  refreshViews(module, memory);
}

/** What the glue's updateMemoryViews does; its own closure views refresh on their next access. */
function refreshViews(module: EmscriptenModule, memory: WebAssembly.Memory): void {
  const buffer = memory.buffer;
  module.HEAP8 = new Int8Array(buffer);
  module.HEAPU8 = new Uint8Array(buffer);
  module.HEAP32 = new Int32Array(buffer);
  module.HEAPU32 = new Uint32Array(buffer);
}

/**
 * A one-node ONNX model, float x[1] -> Identity -> y[1] (opset 17, 137 bytes), as
 * src/onnx/graph-builder.ts encodes it. Kept as bytes so that a shard Worker, which only runs
 * ORT-format files, bundles no protobuf encoder (onnx-proto + protobufjs, ~250 kB of the bundle);
 * test/engine/ort-web-low-memory.test.ts decodes it and checks the graph.
 */
export const IDENTITY_MODEL_BASE64 =
  'CAgSCmNvcm9tLWVkZ2UaBTAuMS4wOlkKIQoBeBIBeRoNSWRlbnRpdHlfbm9kZSIISWRlbnRpdHk6ABISY29yb21fYmVydF9lbmNvZGVyWg8KAXgSCgoICAESBAoCCAFiDwoBeRIKCggIARIECgIIAUIECgAQEUIRCg1jb20ubWljcm9zb2Z0EAE=';

/**
 * Starts ORT's WebAssembly with a one-node graph (created and released), so that its module and
 * memory exist before the first real model is read into them.
 */
export async function initializeOrt(runtime: WorkerdOrt): Promise<void> {
  if (runtime.emscriptenModule()) return;
  const session = await runtime.createSession(Uint8Array.from(atob(IDENTITY_MODEL_BASE64), (c) => c.charCodeAt(0)));
  await session.release();
  if (!runtime.emscriptenModule() || !runtime.wasmMemory()) {
    throw new CoromError('onnxruntime-web started without exposing its module or memory: the low-memory loader cannot be used with this version');
  }
}

/**
 * Reads `chunks` into ORT's WASM memory and creates a session on it. `runtime` must already be
 * initialized (`initializeOrt`).
 */
export async function createLowMemorySession(
  runtime: WorkerdOrt,
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  options: LowMemorySessionOptions,
): Promise<LowMemorySession> {
  const module = runtime.emscriptenModule();
  const memory = runtime.wasmMemory();
  if (!module || !memory) throw new CoromError('onnxruntime-web is not initialized yet (call initializeOrt first)');
  if (options.growth !== 'emscripten') tightenGrowth(memory);
  if (options.reserveBytes) growTo(module, memory, options.reserveBytes);

  const pins = pinnedSet(module);
  const pointer = module._malloc(options.byteLength);
  if (pointer === 0) throw new CoromError(`onnxruntime-web could not allocate ${options.byteLength} bytes for the model`);
  const unpinAndFree = (): void => {
    pins.delete(pointer);
    module._free(pointer);
  };
  try {
    let offset = 0;
    for await (const chunk of chunks) {
      if (offset + chunk.byteLength > options.byteLength) throw new CoromError(`the model is longer than the ${options.byteLength} bytes announced`);
      // memory.buffer, not the module's view: the view may predate a growth.
      new Uint8Array(memory.buffer, pointer + offset, chunk.byteLength).set(chunk);
      offset += chunk.byteLength;
    }
    if (offset !== options.byteLength) throw new CoromError(`the model has ${offset} bytes, ${options.byteLength} were announced`);
  } catch (error) {
    unpinAndFree();
    throw error;
  }

  const sessionOptions: OrtSessionOptions = { ...options.sessionOptions };
  if (options.ortFormat) {
    const extra = (sessionOptions.extra ?? {}) as Record<string, Record<string, string>>;
    sessionOptions.extra = { ...extra, session: { ...extra['session'], use_ort_model_bytes_for_initializers: '1' } };
    pins.add(pointer);
  }
  // A view of ORT's own heap: createSession uses it in place (the buffer identity check).
  if (module.HEAPU8.buffer !== memory.buffer) refreshViews(module, memory);
  const view = new Uint8Array(module.HEAPU8.buffer, pointer, options.byteLength);
  let session: OrtSession;
  try {
    session = await runtime.createSession(view, sessionOptions);
  } catch (error) {
    if (pins.has(pointer)) unpinAndFree();
    throw error;
  }
  // Without ORT format, createSession has already freed the buffer (the initializers were copied).
  return {
    session,
    modelPointer: pointer,
    release: async () => {
      await session.release();
      if (pins.has(pointer)) unpinAndFree();
    },
  };
}
