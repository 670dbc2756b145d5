/**
 * streamModelObject: a shard's R2 body reaches WebAssembly memory through ONE reused buffer (a BYOB
 * reader), so loading a 50 MB shard leaves no 50 MB of dead ArrayBuffers in the isolate; a body that
 * is not a byte stream is still read whole. Size checks come first.
 */
import { describe, expect, it } from 'vitest';

import { MODEL_CHUNK_BYTES, streamModelObject } from '../../worker/model-files.js';

type Bucket = Parameters<typeof streamModelObject>[0];

function bytesOf(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 7 + 3) & 0xff;
  return out;
}
// Byte arrays compared whole (vitest's element-by-element equality takes seconds on megabytes).
const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(a, b) === 0;

/** An R2 bucket of one object whose body gives `source` in pieces of `piece` bytes. */
function bucketOf(source: Uint8Array, piece: number, byteStream: boolean): Bucket {
  const body = (): ReadableStream<Uint8Array> => {
    let at = 0;
    if (!byteStream) {
      return new ReadableStream<Uint8Array>({
        pull(controller) {
          if (at >= source.length) return controller.close();
          controller.enqueue(source.slice(at, (at += piece)));
        },
      });
    }
    return new ReadableStream({
      type: 'bytes',
      pull(controller) {
        if (at >= source.length) {
          controller.close();
          controller.byobRequest?.respond(0);
          return;
        }
        const request = controller.byobRequest;
        const n = Math.min(piece, source.length - at, request?.view?.byteLength ?? piece);
        if (request?.view) {
          new Uint8Array(request.view.buffer, request.view.byteOffset, n).set(source.subarray(at, at + n));
          request.respond(n);
        } else {
          controller.enqueue(source.slice(at, at + n));
        }
        at += n;
      },
    }) as ReadableStream<Uint8Array>;
  };
  return { get: async (key: string) => (key === 'm.ort' ? { size: source.length, body: body() } : null) } as unknown as Bucket;
}

async function drain(chunks: AsyncIterable<Uint8Array>): Promise<{ copy: Uint8Array; views: Uint8Array[]; detachedBeforeNext: boolean }> {
  const parts: Uint8Array[] = [];
  const views: Uint8Array[] = [];
  let detachedBeforeNext = true;
  for await (const chunk of chunks) {
    // The previous view's buffer was handed to this read: it must be detached now (reused memory).
    if (views.length > 0 && views.at(-1)!.byteLength !== 0) detachedBeforeNext = false;
    views.push(chunk);
    parts.push(chunk.slice()); // what the loader does: copy before asking for the next chunk
  }
  const copy = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) copy.set(p, (at += p.length) - p.length);
  return { copy, views, detachedBeforeNext };
}

describe('streamModelObject', () => {
  const source = bytesOf(2 * MODEL_CHUNK_BYTES + 12_345);

  it('reads a byte stream through one reused buffer, every byte in order', async () => {
    const { copy, views, detachedBeforeNext } = await drain(await streamModelObject(bucketOf(source, 300_000, true), 'm.ort', source.length));
    expect(copy.length).toBe(source.length);
    expect(same(copy, source)).toBe(true);
    expect(views.length).toBeGreaterThan(2);
    expect(views.slice(0, -1).every((v) => v.byteLength === 0)).toBe(true); // all but the last were handed back
    expect(detachedBeforeNext).toBe(true);
  });

  it('reads a stream that is not a byte stream chunk by chunk', async () => {
    const { copy, views } = await drain(await streamModelObject(bucketOf(source, 400_000, false), 'm.ort', source.length));
    expect(copy.length).toBe(source.length);
    expect(same(copy, source)).toBe(true);
    expect(views.every((v) => v.byteLength > 0)).toBe(true); // fresh chunks, nothing reused
  });

  it('refuses an object whose size is not the recorded one, and a missing one, by name', async () => {
    await expect(streamModelObject(bucketOf(source, 1000, true), 'm.ort', source.length + 1)).rejects.toThrow(/has \d+ bytes but corom.json records/);
    await expect(streamModelObject(bucketOf(source, 1000, true), 'other.ort', 10)).rejects.toThrow(/not found in the MODELS bucket/);
  });
});
