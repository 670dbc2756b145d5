/** Test helpers for quantized weights: a seeded generator and the MatMulNBits dequantizer. */
import type { Q4Weights } from '../../src/quantize/q4.js';

/** Deterministic pseudo-random numbers (mulberry32), so a failure can be replayed. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** MatMulNBits dequantization of B, back to [K, N] row-major. */
export function dequantizeQ4(q: Q4Weights, K: number, N: number): Float32Array {
  const out = new Float32Array(K * N);
  const half = q.blockSize / 2;
  const zpBytes = Math.ceil(q.blocksPerColumn / 2);
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) {
      const b = Math.floor(k / q.blockSize);
      const j = k % q.blockSize;
      const byte = q.packed[(n * q.blocksPerColumn + b) * half + (j >> 1)]!;
      const value = j & 1 ? byte >> 4 : byte & 0x0f;
      const zpByte = q.zeroPoints[n * zpBytes + (b >> 1)]!;
      const zp = b & 1 ? zpByte >> 4 : zpByte & 0x0f;
      out[k * N + n] = (value - zp) * q.scales[n * q.blocksPerColumn + b]!;
    }
  }
  return out;
}

