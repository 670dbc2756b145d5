/**
 * The binary format one shard's input and output travel in between Workers (a front Worker and
 * shard Workers joined by service bindings): a 20-byte header, then the tensors as little-endian
 * arrays, nothing else. No JSON of floats: a hidden state of 4 x 128 tokens x 768 is 1.6 MB here
 * and would be ~3x that as JSON, parsed into boxed numbers on both sides.
 *
 *   offset  bytes  field
 *   0       4      magic "CSW1" (corom shard wire, version 1)
 *   4       1      kind: 1 = token batch, 2 = hidden state, 3 = embeddings
 *   5       3      zero
 *   8       4      rows     (u32 LE)
 *   12      4      width    (u32 LE: padded sequence length; 0 for embeddings)
 *   16      4      hidden   (u32 LE: hidden size; 0 for a token batch)
 *   20      ...    payload, by kind:
 *     token batch:  ids int32[rows*width], token types int32[rows*width], mask u8[rows*width]
 *     hidden state: state float32[rows*width*hidden], mask u8[rows*width]
 *     embeddings:   float32[rows*hidden]
 *
 * The payload starts at a multiple of 4, so a decoder views the floats in place (no copy). The
 * byte length must be exactly what the header announces. Everything runs on little-endian hosts
 * (x86, ARM as Workers and Node run them); a big-endian host is refused rather than misread.
 */
import type { HiddenState, TokenBatch } from './shard-runner.js';

export const WIRE_MAGIC = 'CSW1';
export const WIRE_HEADER_BYTES = 20;
export const WIRE_CONTENT_TYPE = 'application/x-corom-shard';

export const WireKind = { tokens: 1, hidden: 2, embeddings: 3 } as const;
export type WireKindName = keyof typeof WireKind;

export type WireMessage =
  | { kind: 'tokens'; tokens: TokenBatch }
  | { kind: 'hidden'; hiddenState: HiddenState }
  | { kind: 'embeddings'; rows: number; hidden: number; data: Float32Array };

export class ShardWireError extends Error {
  override name = 'ShardWireError';
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const MAX_DIM = 1 << 24;

function requireLittleEndian(): void {
  if (!LITTLE_ENDIAN) throw new ShardWireError('the shard wire format is little-endian and this host is not');
}

function header(kind: WireKindName, rows: number, width: number, hidden: number, payload: number): { bytes: Uint8Array<ArrayBuffer>; view: DataView } {
  requireLittleEndian();
  const bytes = new Uint8Array(WIRE_HEADER_BYTES + payload);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < 4; i++) bytes[i] = WIRE_MAGIC.charCodeAt(i);
  bytes[4] = WireKind[kind];
  view.setUint32(8, rows, true);
  view.setUint32(12, width, true);
  view.setUint32(16, hidden, true);
  return { bytes, view };
}

function maskBytes(mask: BigInt64Array, out: Uint8Array): void {
  for (let i = 0; i < mask.length; i++) out[i] = mask[i] === 0n ? 0 : 1;
}

/** A padded token batch (padBatch's output) for the first shard. */
export function encodeTokens(tokens: TokenBatch): Uint8Array<ArrayBuffer> {
  const n = tokens.rows * tokens.width;
  const { bytes } = header('tokens', tokens.rows, tokens.width, 0, n * 9);
  const ids = new Int32Array(bytes.buffer, WIRE_HEADER_BYTES, n);
  const types = new Int32Array(bytes.buffer, WIRE_HEADER_BYTES + 4 * n, n);
  for (let i = 0; i < n; i++) {
    ids[i] = Number(tokens.ids[i]);
    types[i] = Number(tokens.types[i]);
  }
  maskBytes(tokens.mask, bytes.subarray(WIRE_HEADER_BYTES + 8 * n));
  return bytes;
}

/** A hidden state between shards. `state` may be a view of WASM memory: it is copied here. */
export function encodeHiddenState(h: HiddenState): Uint8Array<ArrayBuffer> {
  const n = h.rows * h.width;
  if (h.state.length !== n * h.hidden || h.mask.length !== n) throw new ShardWireError(`hidden state of ${h.state.length} values and mask of ${h.mask.length} do not match ${h.rows} x ${h.width} x ${h.hidden}`);
  const { bytes } = header('hidden', h.rows, h.width, h.hidden, 4 * n * h.hidden + n);
  new Float32Array(bytes.buffer, WIRE_HEADER_BYTES, n * h.hidden).set(h.state);
  maskBytes(h.mask, bytes.subarray(WIRE_HEADER_BYTES + 4 * n * h.hidden));
  return bytes;
}

/** Sentence embeddings from the last shard, one row per sequence. */
export function encodeEmbeddings(vectors: readonly Float32Array[], hidden: number): Uint8Array<ArrayBuffer> {
  const { bytes } = header('embeddings', vectors.length, 0, hidden, 4 * vectors.length * hidden);
  const out = new Float32Array(bytes.buffer, WIRE_HEADER_BYTES, vectors.length * hidden);
  vectors.forEach((v, r) => {
    if (v.length !== hidden) throw new ShardWireError(`embedding ${r} has ${v.length} values, expected ${hidden}`);
    out.set(v, r * hidden);
  });
  return bytes;
}

/**
 * The largest message a shard takes at a batch of `maxTokens` padded tokens: a hidden state of
 * `hidden` floats plus a mask byte per token (a token batch is 9 bytes a token).
 */
export function largestShardInputBytes(maxTokens: number, hidden: number): number {
  return WIRE_HEADER_BYTES + maxTokens * Math.max(9, 4 * hidden + 1);
}

/** The header alone: what a relay (the front Worker) checks before forwarding the bytes. */
export function peekWire(bytes: Uint8Array): { kind: WireKindName; rows: number; width: number; hidden: number } {
  requireLittleEndian();
  if (bytes.byteLength < WIRE_HEADER_BYTES) throw new ShardWireError(`a shard message has at least ${WIRE_HEADER_BYTES} bytes, got ${bytes.byteLength}`);
  for (let i = 0; i < 4; i++) {
    if (bytes[i] !== WIRE_MAGIC.charCodeAt(i)) throw new ShardWireError(`not a shard message (expected magic "${WIRE_MAGIC}")`);
  }
  const code = bytes[4];
  const kind = (Object.keys(WireKind) as WireKindName[]).find((k) => WireKind[k] === code);
  if (!kind) throw new ShardWireError(`unknown shard message kind ${String(code)}`);
  if (bytes[5] !== 0 || bytes[6] !== 0 || bytes[7] !== 0) throw new ShardWireError('reserved header bytes must be zero');
  const view = new DataView(bytes.buffer, bytes.byteOffset, WIRE_HEADER_BYTES);
  const rows = view.getUint32(8, true);
  const width = view.getUint32(12, true);
  const hidden = view.getUint32(16, true);
  if (rows === 0 || rows > MAX_DIM || width > MAX_DIM || hidden > MAX_DIM) throw new ShardWireError(`implausible shape ${rows} x ${width} x ${hidden}`);
  if ((kind === 'embeddings') !== (width === 0) || (kind === 'tokens') !== (hidden === 0)) {
    throw new ShardWireError(`a ${kind} message cannot have shape ${rows} x ${width} x ${hidden}`);
  }
  const n = rows * width;
  const expected = WIRE_HEADER_BYTES + (kind === 'tokens' ? 9 * n : kind === 'hidden' ? 4 * n * hidden + n : 4 * rows * hidden);
  if (bytes.byteLength !== expected) throw new ShardWireError(`a ${kind} message of ${rows} x ${width} x ${hidden} has ${expected} bytes, got ${bytes.byteLength}`);
  return { kind, rows, width, hidden };
}

function maskFrom(bytes: Uint8Array): BigInt64Array {
  const mask = new BigInt64Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i]! > 1) throw new ShardWireError('attention mask values must be 0 or 1');
    mask[i] = bytes[i] ? 1n : 0n;
  }
  return mask;
}

/**
 * Decodes a message. Floats are views into `bytes` when it starts at a 4-byte boundary of its
 * buffer (a fresh ArrayBuffer always does), else a copy.
 */
export function decodeWire(bytes: Uint8Array): WireMessage {
  const { kind, rows, width, hidden } = peekWire(bytes);
  const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
  const at = aligned.byteOffset + WIRE_HEADER_BYTES;
  const n = rows * width;
  if (kind === 'tokens') {
    const ids32 = new Int32Array(aligned.buffer, at, n);
    const types32 = new Int32Array(aligned.buffer, at + 4 * n, n);
    const ids = new BigInt64Array(n);
    const types = new BigInt64Array(n);
    for (let i = 0; i < n; i++) {
      if (ids32[i]! < 0 || types32[i]! < 0) throw new ShardWireError('token ids and token types must be non-negative');
      ids[i] = BigInt(ids32[i]!);
      types[i] = BigInt(types32[i]!);
    }
    const mask = maskFrom(aligned.subarray(WIRE_HEADER_BYTES + 8 * n));
    return { kind, tokens: { rows, width, ids, types, mask } };
  }
  if (kind === 'hidden') {
    const state = new Float32Array(aligned.buffer, at, n * hidden);
    const mask = maskFrom(aligned.subarray(WIRE_HEADER_BYTES + 4 * n * hidden));
    return { kind, hiddenState: { rows, width, hidden, state, mask } };
  }
  const data = new Float32Array(aligned.buffer, at, rows * hidden);
  return { kind, rows, hidden, data };
}
