/**
 * onnxruntime-node backend: native, multi-threaded; CUDA execution provider where installed.
 */
import * as ort from 'onnxruntime-node';
import { availableParallelism } from 'node:os';
import type { Embedder, ModelInfo, PairScorer, RankerInfo } from '../engine/types.js';
import { OrtEmbedder } from './ort-embedder.js';
import { OrtPairScorer } from './ort-pair-scorer.js';
import type { BucketLimits } from './length-buckets.js';
import { cudaMissingPieces, cudaUnavailableReason, DeviceUnavailableError, SETUP_CUDA_COMMAND, type Device } from './ort-node-providers.js';

export type { Device } from './ort-node-providers.js';

export interface NativeSessionOptions {
  threads?: number;
  device?: Device;
  limits?: BucketLimits;
  /** device cuda: throw DeviceUnavailableError instead of falling back to the CPU. */
  requireDevice?: boolean;
  /** Where to say that CUDA was asked for but is not available (one line). */
  warn?: (line: string) => void;
}

export async function createNativeEmbedder(modelPath: string, info: Omit<ModelInfo, 'backend'>, options: NativeSessionOptions = {}): Promise<Embedder> {
  const { session, backend } = await createNativeSession(modelPath, options);
  return new OrtEmbedder({ ...info, backend }, session, ort.Tensor, options.limits);
}

/** A cross-encoder (output `logits`) on onnxruntime-node, on the calling thread. */
export async function createNativePairScorer(modelPath: string, info: Omit<RankerInfo, 'backend'>, options: NativeSessionOptions = {}): Promise<PairScorer> {
  const { session, backend } = await createNativeSession(modelPath, options);
  return new OrtPairScorer({ ...info, backend }, session, ort.Tensor, options.limits);
}

/** The session both model kinds run on, and its backend label. */
export async function createNativeSession(modelPath: string, options: NativeSessionOptions = {}): Promise<{ session: ort.InferenceSession; backend: string }> {
  const threads = options.threads ?? availableParallelism();
  const base: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: 'all',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
  };
  let session: ort.InferenceSession | undefined;
  // The backend label says which provider is active, and why not CUDA when CUDA was asked for:
  // /info and every batch carry it, so a GPU deployment running on the CPU cannot go unnoticed.
  let backend = 'onnxruntime-node/cpu';
  if (options.device === 'cuda') {
    try {
      const missing = cudaMissingPieces();
      if (missing) throw new Error(missing);
      session = await ort.InferenceSession.create(modelPath, { ...base, executionProviders: ['cuda', 'cpu'] });
      backend = 'onnxruntime-node/cuda';
    } catch (err) {
      const reason = await cudaUnavailableReason(err);
      if (options.requireDevice) throw new DeviceUnavailableError(reason);
      // The label travels in x-corom-backend (comma-joined per batch) and a /metrics label value.
      backend = `onnxruntime-node/cpu (cuda unavailable: ${reason.replace(/[^\x20-\x7e]|,/g, ';')})`;
      options.warn?.(
        `--device cuda: CUDA execution provider unavailable (${reason}); running on the CPU. Install it with '${SETUP_CUDA_COMMAND}' on a GPU host (NVIDIA driver, CUDA 12.x, cuDNN 9.x); --require-device exits instead of falling back.`,
      );
    }
  }
  session ??= await ort.InferenceSession.create(modelPath, { ...base, executionProviders: ['cpu'] });
  return { session, backend };
}
