/**
 * onnxruntime-node in a worker thread, for servers.
 *
 * onnxruntime-node's `session.run` computes synchronously on the calling thread (its promise only
 * defers the call with setImmediate), so on the main thread every batch blocks the event loop for
 * its whole duration: measured 17.5 s for 64 x 128 tokens of a BERT-base int8 model on one core,
 * during which a server answers nothing -- no /health, no 429, no drain on SIGTERM. Here the
 * session lives in a worker (./ort-node-worker.ts) and the caller's thread only posts token ids
 * and receives vectors (transferred, not copied).
 *
 * The worker holds the process open only while a request is pending, so an engine someone forgot
 * to close does not keep a CLI from exiting.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Embedder, ModelInfo, PairScorer, RankerInfo, TokenPair } from '../engine/types.js';
import type { NativeSessionOptions } from './ort-node.js';
import { DeviceUnavailableError } from './ort-node-providers.js';

/** workerData of the worker: which model kind to open (an embedder, or a ranker's pair scorer). */
export type ThreadSetup =
  | { kind: 'embedding'; modelPath: string; info: Omit<ModelInfo, 'backend'>; options: Omit<NativeSessionOptions, 'warn'> }
  | { kind: 'rerank'; modelPath: string; info: Omit<RankerInfo, 'backend'>; options: Omit<NativeSessionOptions, 'warn'> };

export type ThreadRequest =
  | { type: 'embed'; id: number; sequences: readonly Int32Array[] }
  | { type: 'score'; id: number; pairs: readonly TokenPair[] }
  | { type: 'close' };

export type ThreadResponse =
  | { type: 'ready'; backend: string }
  | { type: 'load-error'; message: string; deviceUnavailable?: boolean }
  | { type: 'warn'; line: string }
  | { type: 'result'; id: number; vectors: Float32Array[] }
  | { type: 'scores'; id: number; logits: Float32Array }
  | { type: 'error'; id: number; message: string }
  | { type: 'closed' };

/**
 * Starts the worker module next to this one: the built .js, or, when running from source (tsx,
 * vitest), the .ts through tsx's loader (a worker does not inherit the parent's loader hooks).
 */
function startWorker(setup: ThreadSetup): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./ort-node-worker.js', import.meta.url), { workerData: setup });
  const tsxApi = pathToFileURL(join(dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist/esm/api/index.mjs')).href;
  const bootstrap = `const { workerData } = require('node:worker_threads');
import(workerData.tsxApi).then((tsx) => { tsx.register(); return import(workerData.entry); });`;
  return new Worker(bootstrap, { eval: true, workerData: { ...setup, tsxApi, entry: new URL('./ort-node-worker.ts', import.meta.url).href } });
}

/** The caller's side of one inference thread: numbered requests, answered in order. */
class InferenceThread {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  private failure: Error | undefined;
  private closing: Promise<void> | undefined;

  constructor(private readonly worker: Worker) {
    worker.on('message', (message: ThreadResponse) => {
      if (message.type !== 'result' && message.type !== 'scores' && message.type !== 'error') return;
      const request = this.pending.get(message.id);
      if (!request) return;
      this.pending.delete(message.id);
      if (this.pending.size === 0) worker.unref();
      if (message.type === 'result') request.resolve(message.vectors);
      else if (message.type === 'scores') request.resolve(message.logits);
      else request.reject(new Error(message.message));
    });
    const fail = (error: Error): void => {
      this.failure ??= error;
      for (const request of this.pending.values()) request.reject(this.failure);
      this.pending.clear();
    };
    worker.on('error', (err) => fail(new Error(`the inference thread failed: ${err.message}`)));
    worker.on('exit', (code) => fail(new Error(`the inference thread exited (code ${code})`)));
    worker.unref();
  }

  request<T>(make: (id: number) => ThreadRequest, what: string): Promise<T> {
    if (this.closing) return Promise.reject(new Error(`${what} is closed`));
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.worker.ref();
      this.worker.postMessage(make(id));
    });
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.failure) return;
      const closed = new Promise<void>((resolve) => {
        this.worker.on('message', (message: ThreadResponse) => message.type === 'closed' && resolve());
        this.worker.once('exit', () => resolve());
      });
      this.worker.ref();
      this.worker.postMessage({ type: 'close' } satisfies ThreadRequest);
      await closed;
      await this.worker.terminate();
    })();
    return this.closing;
  }
}

class ThreadedEmbedder implements Embedder {
  constructor(
    readonly info: ModelInfo,
    private readonly thread: InferenceThread,
  ) {}

  embedTokens(inputs: readonly Int32Array[]): Promise<Float32Array[]> {
    if (inputs.length === 0) return Promise.resolve([]);
    return this.thread.request<Float32Array[]>((id) => ({ type: 'embed', id, sequences: inputs }), 'embedder');
  }

  close(): Promise<void> {
    return this.thread.close();
  }
}

class ThreadedPairScorer implements PairScorer {
  constructor(
    readonly info: RankerInfo,
    private readonly thread: InferenceThread,
  ) {}

  scoreTokens(pairs: readonly TokenPair[]): Promise<Float32Array> {
    if (pairs.length === 0) return Promise.resolve(new Float32Array(0));
    return this.thread.request<Float32Array>((id) => ({ type: 'score', id, pairs }), 'ranker');
  }

  close(): Promise<void> {
    return this.thread.close();
  }
}

/** Same contract as createNativeEmbedder (./ort-node.ts), computed off the caller's thread. */
export async function createThreadedNativeEmbedder(modelPath: string, info: Omit<ModelInfo, 'backend'>, options: NativeSessionOptions = {}): Promise<Embedder> {
  const { warn, ...sessionOptions } = options;
  const { worker, backend } = await startReady({ kind: 'embedding', modelPath, info, options: sessionOptions }, warn);
  return new ThreadedEmbedder({ ...info, backend }, new InferenceThread(worker));
}

/** Same contract as createNativePairScorer (./ort-node.ts), computed off the caller's thread. */
export async function createThreadedNativePairScorer(modelPath: string, info: Omit<RankerInfo, 'backend'>, options: NativeSessionOptions = {}): Promise<PairScorer> {
  const { warn, ...sessionOptions } = options;
  const { worker, backend } = await startReady({ kind: 'rerank', modelPath, info, options: sessionOptions }, warn);
  return new ThreadedPairScorer({ ...info, backend }, new InferenceThread(worker));
}

async function startReady(setup: ThreadSetup, warn: ((line: string) => void) | undefined): Promise<{ worker: Worker; backend: string }> {
  const worker = startWorker(setup);
  const backend = await new Promise<string>((resolve, reject) => {
    const onMessage = (message: ThreadResponse): void => {
      if (message.type === 'warn') warn?.(message.line);
      else if (message.type === 'ready') {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
        resolve(message.backend);
      } else if (message.type === 'load-error') reject(message.deviceUnavailable ? DeviceUnavailableError.fromMessage(message.message) : new Error(message.message));
    };
    const onError = (err: Error): void => reject(err);
    const onExit = (code: number): void => reject(new Error(`the inference thread exited (code ${code}) while loading the model`));
    worker.on('message', onMessage);
    worker.once('error', onError);
    worker.once('exit', onExit);
  }).catch(async (err: unknown) => {
    await worker.terminate();
    throw err;
  });
  worker.on('message', (message: ThreadResponse) => message.type === 'warn' && warn?.(message.line));
  return { worker, backend };
}
