/**
 * Worker-thread side of ./ort-node-thread.ts: owns one onnxruntime-node session and answers
 * embed requests from the parent, one at a time, in arrival order.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Embedder, PairScorer } from '../engine/types.js';
import { createNativeEmbedder, createNativePairScorer } from './ort-node.js';
import { DeviceUnavailableError } from './ort-node-providers.js';
import type { ThreadRequest, ThreadResponse, ThreadSetup } from './ort-node-thread.js';

const port = parentPort!;
const setup = workerData as ThreadSetup;
const post = (message: ThreadResponse, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);
const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

let model: Embedder | PairScorer;
try {
  const options = { ...setup.options, warn: (line: string) => post({ type: 'warn', line }) };
  model = setup.kind === 'rerank' ? await createNativePairScorer(setup.modelPath, setup.info, options) : await createNativeEmbedder(setup.modelPath, setup.info, options);
  post({ type: 'ready', backend: model.info.backend });
} catch (err) {
  post({ type: 'load-error', message: messageOf(err), ...(err instanceof DeviceUnavailableError ? { deviceUnavailable: true } : {}) });
  process.exit(0);
}

// Requests run strictly one after another: the session is used by one run at a time.
let queue: Promise<void> = Promise.resolve();
port.on('message', (request: ThreadRequest) => {
  queue = queue.then(async () => {
    if (request.type === 'close') {
      await model.close();
      post({ type: 'closed' });
      port.close();
      return;
    }
    try {
      if (request.type === 'score') {
        const logits = await (model as PairScorer).scoreTokens(request.pairs);
        post({ type: 'scores', id: request.id, logits }, [logits.buffer as ArrayBuffer]);
        return;
      }
      const vectors = await (model as Embedder).embedTokens(request.sequences);
      post({ type: 'result', id: request.id, vectors }, [...new Set(vectors.map((v) => v.buffer as ArrayBuffer))]);
    } catch (err) {
      post({ type: 'error', id: request.id, message: messageOf(err) });
    }
  });
});
