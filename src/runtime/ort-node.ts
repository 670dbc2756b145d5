/**
 * onnxruntime-node backend: native, multi-threaded; CUDA execution provider where installed.
 */
import * as ort from 'onnxruntime-node';
import { availableParallelism } from 'node:os';
import type { Embedder, ModelInfo, PairScorer, RankerInfo } from '../engine/types.js';
import { OrtEmbedder } from './ort-embedder.js';
import { OrtPairScorer } from './ort-pair-scorer.js';
import type { BucketLimits } from './length-buckets.js';

export type Device = 'cpu' | 'cuda';

export interface NativeSessionOptions {
  threads?: number;
  device?: Device;
  limits?: BucketLimits;
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
  let device: Device = 'cpu';
  if (options.device === 'cuda') {
    try {
      session = await ort.InferenceSession.create(modelPath, { ...base, executionProviders: ['cuda', 'cpu'] });
      device = 'cuda';
    } catch (err) {
      options.warn?.(
        `CUDA execution provider not available (${firstLine(err)}); falling back to CPU. Install onnxruntime-node with its CUDA binaries (npm install without onnxruntime-node-install=skip) and CUDA 12 + cuDNN 9 to use the GPU.`,
      );
    }
  }
  session ??= await ort.InferenceSession.create(modelPath, { ...base, executionProviders: ['cpu'] });
  return { session, backend: `onnxruntime-node/${device}` };
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 200);
}
