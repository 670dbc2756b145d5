/**
 * Worker-thread side of ./ort-node-thread.ts: owns one onnxruntime-node session and answers
 * embed requests from the parent, one at a time, in arrival order.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Embedder } from '../engine/types.js';
import { createNativeEmbedder } from './ort-node.js';
import { DeviceUnavailableError } from './ort-node-providers.js';
import type { ThreadRequest, ThreadResponse, ThreadSetup } from './ort-node-thread.js';

const port = parentPort!;
const setup = workerData as ThreadSetup;
const post = (message: ThreadResponse, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);
const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

let embedder: Embedder;
try {
  embedder = await createNativeEmbedder(setup.modelPath, setup.info, { ...setup.options, warn: (line) => post({ type: 'warn', line }) });
  post({ type: 'ready', backend: embedder.info.backend });
} catch (err) {
  post({ type: 'load-error', message: messageOf(err), ...(err instanceof DeviceUnavailableError ? { deviceUnavailable: true } : {}) });
  process.exit(0);
}

// Requests run strictly one after another: the session is used by one run at a time.
let queue: Promise<void> = Promise.resolve();
port.on('message', (request: ThreadRequest) => {
  queue = queue.then(async () => {
    if (request.type === 'close') {
      await embedder.close();
      post({ type: 'closed' });
      port.close();
      return;
    }
    try {
      const vectors = await embedder.embedTokens(request.sequences);
      post({ type: 'result', id: request.id, vectors }, [...new Set(vectors.map((v) => v.buffer as ArrayBuffer))]);
    } catch (err) {
      post({ type: 'error', id: request.id, message: messageOf(err) });
    }
  });
});
