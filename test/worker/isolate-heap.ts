/**
 * Reads a workerd isolate's JavaScript memory through its V8 inspector (Chrome DevTools Protocol
 * `Runtime.getHeapUsage`, which workerd answers for the Worker's isolate), the part of the 128 MB
 * that the Worker cannot see itself: the Worker reports its WebAssembly memory, and that is not in
 * these figures (workerd keeps it outside the V8 heap and the ArrayBuffer backing stores; checked
 * on the tiny fixture: 20.2 MB of WASM memory, 6.8 MB of backing stores).
 */
import WebSocket from 'ws';

export interface IsolateHeap {
  /** V8 heap in use (objects, strings, compiled code). */
  usedBytes: number;
  /** V8 heap reserved by the isolate (>= used). */
  totalBytes: number;
  /** ArrayBuffer backing stores (R2 bodies, typed arrays), outside the V8 heap. */
  arrayBufferBytes: number;
}

/**
 * `Runtime.getHeapUsage` over `webSocketUrl` (wrangler's inspector proxy: `<inspectorUrl>ws`), within
 * `timeoutMs`. "Used" may include garbage not yet collected, so it is an upper bound on what is live.
 * (A collection first was tried: through wrangler 4.86's proxy HeapProfiler.collectGarbage gets no
 * answer and the reading after it did not change.)
 */
export async function readIsolateHeap(webSocketUrl: string, options: { timeoutMs?: number } = {}): Promise<IsolateHeap> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const socket = new WebSocket(webSocketUrl);
  const pending = new Map<number, { resolve: (result: Record<string, number>) => void; reject: (error: Error) => void }>();
  let nextId = 1;
  const call = (method: string): Promise<Record<string, number>> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      socket.send(JSON.stringify({ id, method }));
    });
  socket.on('message', (data) => {
    // The proxy also relays events and answers to its own calls (other ids): only ours count.
    const message = JSON.parse(String(data)) as { id?: number; result?: Record<string, number>; error?: { message: string } };
    const waiter = message.id === undefined ? undefined : pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id!);
    if (message.error || !message.result) waiter.reject(new Error(`inspector: ${message.error?.message ?? `no result in ${String(data).slice(0, 200)}`}`));
    else waiter.resolve(message.result);
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    const session = (async () => {
      await new Promise<void>((resolve, reject) => {
        socket.once('open', () => resolve());
        socket.once('error', reject);
      });
      const { usedSize, totalSize, backingStorageSize } = await call('Runtime.getHeapUsage');
      if (typeof usedSize !== 'number' || typeof totalSize !== 'number') throw new Error('Runtime.getHeapUsage answered without usedSize / totalSize');
      return { usedBytes: usedSize, totalBytes: totalSize, arrayBufferBytes: backingStorageSize ?? 0 };
    })();
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no heap reading from ${webSocketUrl} within ${timeoutMs} ms`)), timeoutMs);
    });
    return await Promise.race([session, deadline]);
  } finally {
    clearTimeout(timer);
    socket.terminate();
  }
}
