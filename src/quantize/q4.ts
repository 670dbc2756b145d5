/**
 * 4-bit block quantization in the layout of onnxruntime's MatMulNBits (com.microsoft):
 * B is stored transposed, [N][blocks][blockSize/2] bytes, two 4-bit values per byte (low nibble
 * first); one fp32 scale per (column, block) and one packed 4-bit zero point per (column, block).
 * Asymmetric min/max blocks keep more precision than symmetric ones at the same size.
 */

export interface Q4Weights {
  packed: Uint8Array;
  scales: Float32Array;
  zeroPoints: Uint8Array;
  blockSize: number;
  blocksPerColumn: number;
}

export function quantizeMatMulNBits(w: Float32Array, K: number, N: number, blockSize = 32): Q4Weights {
  if (blockSize < 16 || (blockSize & (blockSize - 1)) !== 0) throw new Error(`block size ${blockSize} must be a power of two >= 16`);
  const blocks = Math.ceil(K / blockSize);
  const blobSize = blockSize / 2;
  const zpBytesPerColumn = Math.ceil(blocks / 2);
  const packed = new Uint8Array(N * blocks * blobSize);
  const scales = new Float32Array(N * blocks);
  const zeroPoints = new Uint8Array(N * zpBytesPerColumn);
  const column = new Float32Array(blocks * blockSize); // zero padded past K
  for (let n = 0; n < N; n++) {
    column.fill(0);
    for (let k = 0; k < K; k++) column[k] = w[k * N + n]!;
    for (let b = 0; b < blocks; b++) {
      const start = b * blockSize;
      let min = 0;
      let max = 0; // the range always holds 0 so that padding and exact zeros stay exact
      for (let j = 0; j < blockSize; j++) {
        const v = column[start + j]!;
        if (v < min) min = v;
        if (v > max) max = v;
      }
      const scale = max > min ? (max - min) / 15 : 1;
      const zp = Math.min(15, Math.max(0, Math.round(-min / scale)));
      scales[n * blocks + b] = scale;
      const zpAt = n * zpBytesPerColumn + (b >> 1);
      zeroPoints[zpAt] = zeroPoints[zpAt]! | (b & 1 ? zp << 4 : zp);
      const inv = 1 / scale;
      const out = (n * blocks + b) * blobSize;
      for (let j = 0; j < blockSize; j += 2) {
        const lo = Math.min(15, Math.max(0, Math.round(column[start + j]! * inv) + zp));
        const hi = Math.min(15, Math.max(0, Math.round(column[start + j + 1]! * inv) + zp));
        packed[out + (j >> 1)] = lo | (hi << 4);
      }
    }
  }
  return { packed, scales, zeroPoints, blockSize, blocksPerColumn: blocks };
}
