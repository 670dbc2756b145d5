/**
 * onnxruntime-web backend: the WASM build, one thread, no proxy worker -- the configuration a
 * Cloudflare Worker isolate allows (no threads, no Web Workers), exercised here under Node so the
 * edge path is tested on every run.
 */
import * as ort from 'onnxruntime-web';
import type { Embedder, ModelInfo, PairScorer, RankerInfo } from '../engine/types.js';
import { OrtEmbedder } from './ort-embedder.js';
import { OrtPairScorer } from './ort-pair-scorer.js';
import type { BucketLimits } from './length-buckets.js';

export interface WasmSessionOptions {
  limits?: BucketLimits;
  /**
   * Trade speed for memory: no CPU arena (freed tensors go back to the WASM heap) and no memory
   * pattern (no pre-planned block for all intermediates). What an isolate's 128 MB needs.
   */
  lowMemory?: boolean;
}

let configured = false;

/** Single-threaded, in-thread WASM: what workerd permits. Set once, before the first session. */
export function configureWasmRuntime(env: typeof ort.env = ort.env): void {
  if (configured) return;
  env.wasm.numThreads = 1;
  env.wasm.proxy = false;
  env.logLevel = 'error';
  configured = true;
}

/** An ONNX external data file: `path` as the graph names it, and its bytes. */
export interface ExternalDataFile {
  path: string;
  data: Uint8Array;
}

export async function createWasmEmbedder(
  model: Uint8Array,
  info: Omit<ModelInfo, 'backend'>,
  options: WasmSessionOptions = {},
  externalData: ExternalDataFile[] = [],
): Promise<Embedder> {
  const session = await createWasmSession(model, options, externalData);
  return new OrtEmbedder({ ...info, backend: WASM_BACKEND }, session, ort.Tensor, options.limits);
}

/** A cross-encoder (output `logits`) on onnxruntime-web. */
export async function createWasmPairScorer(
  model: Uint8Array,
  info: Omit<RankerInfo, 'backend'>,
  options: WasmSessionOptions = {},
  externalData: ExternalDataFile[] = [],
): Promise<PairScorer> {
  const session = await createWasmSession(model, options, externalData);
  return new OrtPairScorer({ ...info, backend: WASM_BACKEND }, session, ort.Tensor, options.limits);
}

const WASM_BACKEND = 'onnxruntime-web/wasm';

/** The session both model kinds run on. */
export async function createWasmSession(model: Uint8Array, options: WasmSessionOptions = {}, externalData: ExternalDataFile[] = []): Promise<ort.InferenceSession> {
  configureWasmRuntime();
  return ort.InferenceSession.create(model, {
    executionProviders: ['wasm'],
    graphOptimizationLevel: 'all',
    ...(options.lowMemory ? { enableCpuMemArena: false, enableMemPattern: false } : {}),
    ...(externalData.length ? { externalData } : {}),
  });
}
