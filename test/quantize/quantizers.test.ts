/**
 * The int8 and q4 weight quantizers against dequantizers written here from the layouts the
 * onnxruntime ops document (DynamicQuantizeMatMul: w = values * scale per output column;
 * MatMulNBits: w = (q - zero_point) * scale per column block, B transposed, low nibble first).
 * test/onnx/graph-builder.test.ts runs both layouts through the real onnxruntime ops.
 */
import { describe, expect, it } from 'vitest';
import { quantizeColumnsInt8, quantizeRowsInt8 } from '../../src/quantize/int8.js';
import { quantizeMatMulNBits } from '../../src/quantize/q4.js';
import { dequantizeQ4, random } from '../helpers/quantized.js';

/** [K, N] row-major with a different magnitude per column (1e-3 .. 10), as real weights have. */
function matrix(K: number, N: number, seed: number): Float32Array {
  const next = random(seed);
  const magnitude = Array.from({ length: N }, () => 10 ** (next() * 4 - 3));
  const w = new Float32Array(K * N);
  for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) w[k * N + n] = (next() * 2 - 1) * magnitude[n]!;
  return w;
}

function columnAbsMax(w: Float32Array, K: number, N: number): number[] {
  const out = new Array<number>(N).fill(0);
  for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) out[n] = Math.max(out[n]!, Math.abs(w[k * N + n]!));
  return out;
}

/** Float32 rounding of the scale, and of a product of float32 values, stays far below this. */
const REL = 1e-5;

describe('int8 per-output-channel (DynamicQuantizeMatMul weights)', () => {
  const shapes: [number, number][] = [[64, 32], [37, 13], [1, 1], [1, 7], [9, 1]];

  it.each(shapes)('%i x %i: every weight within half a step of its column scale', (K, N) => {
    const w = matrix(K, N, K * 1000 + N);
    const { values, scales } = quantizeColumnsInt8(w, K, N);
    expect(values).toHaveLength(K * N);
    expect(scales).toHaveLength(N);
    const absMax = columnAbsMax(w, K, N);
    for (let n = 0; n < N; n++) {
      // per channel: the scale follows this column's own range, not the matrix's
      expect(scales[n]! / (absMax[n]! / 127)).toBeCloseTo(1, 5);
      let extreme = 0;
      for (let k = 0; k < K; k++) {
        const v = values[k * N + n]!;
        extreme = Math.max(extreme, Math.abs(v));
        expect(Math.abs(w[k * N + n]! - v * scales[n]!)).toBeLessThanOrEqual((scales[n]! / 2) * (1 + REL));
      }
      // the largest weight of a column lands on the edge of the range, not one past it (no wrap to -128)
      expect(extreme).toBe(127);
    }
  });

  it('reduce range (maxLevel 63, 7 bits) keeps every value in [-63, 63] with twice the step', () => {
    const K = 48;
    const N = 11;
    const w = matrix(K, N, 7);
    const full = quantizeColumnsInt8(w, K, N);
    const reduced = quantizeColumnsInt8(w, K, N, 63);
    for (let n = 0; n < N; n++) expect(reduced.scales[n]! / full.scales[n]!).toBeCloseTo(127 / 63, 5);
    let extreme = 0;
    reduced.values.forEach((v, i) => {
      extreme = Math.max(extreme, Math.abs(v));
      const n = i % N;
      expect(Math.abs(w[i]! - v * reduced.scales[n]!)).toBeLessThanOrEqual((reduced.scales[n]! / 2) * (1 + REL));
    });
    expect(extreme).toBe(63);
  });

  it('an all-zero column gets a finite scale and exact zeros; an all-zero row stays zero', () => {
    const K = 5;
    const N = 4;
    const w = matrix(K, N, 3);
    for (let k = 0; k < K; k++) w[k * N + 2] = 0; // column 2
    for (let n = 0; n < N; n++) w[3 * N + n] = 0; // row 3
    const { values, scales } = quantizeColumnsInt8(w, K, N);
    expect(scales[2]).toBe(1);
    for (let k = 0; k < K; k++) expect(values[k * N + 2]).toBe(0);
    for (let n = 0; n < N; n++) expect(values[3 * N + n]).toBe(0);
    scales.forEach((s) => expect(Number.isFinite(s) && s > 0).toBe(true));
  });

  it('a single negative extreme maps to -127 (symmetric: no zero point)', () => {
    const w = Float32Array.of(-2, 1, 0.5, 0);
    const { values, scales } = quantizeColumnsInt8(w, 4, 1);
    expect(Array.from(values)).toEqual([-127, 64, 32, 0]);
    expect(scales[0]).toBeCloseTo(2 / 127, 7);
  });
});

describe('int8 per row (embedding tables)', () => {
  it('each row has its own scale; every value within half a step; a zero row stays zero', () => {
    const rows = 21;
    const cols = 9;
    const table = matrix(rows, cols, 11);
    table.fill(0, 4 * cols, 5 * cols);
    const { values, scales } = quantizeRowsInt8(table, rows, cols);
    expect(scales).toHaveLength(rows);
    for (let r = 0; r < rows; r++) {
      let absMax = 0;
      for (let c = 0; c < cols; c++) absMax = Math.max(absMax, Math.abs(table[r * cols + c]!));
      if (absMax === 0) {
        expect(scales[r]).toBe(1);
      } else {
        expect(scales[r]! / (absMax / 127)).toBeCloseTo(1, 5);
      }
      for (let c = 0; c < cols; c++) {
        const i = r * cols + c;
        expect(Math.abs(table[i]! - values[i]! * scales[r]!)).toBeLessThanOrEqual((scales[r]! / 2) * (1 + REL));
      }
    }
    for (let c = 0; c < cols; c++) expect(values[4 * cols + c]).toBe(0);
  });
});

describe('q4 blocks (MatMulNBits weights)', () => {
  const cases: [number, number, number][] = [
    [64, 8, 32],
    [70, 5, 16], // K not a multiple of the block: the last block is zero padded
    [70, 5, 32],
    [100, 3, 64],
    [200, 2, 128],
    [15, 3, 16], // one partial block
    [96, 1, 32], // three blocks: an odd count leaves half a zero-point byte
  ];

  it.each(cases)('K=%i N=%i block %i: sizes, and every weight within half a step of its block scale', (K, N, blockSize) => {
    const w = matrix(K, N, K + N + blockSize);
    const q = quantizeMatMulNBits(w, K, N, blockSize);
    const blocks = Math.ceil(K / blockSize);
    expect(q.blocksPerColumn).toBe(blocks);
    expect(q.blockSize).toBe(blockSize);
    expect(q.packed).toHaveLength(N * blocks * (blockSize / 2));
    expect(q.scales).toHaveLength(N * blocks);
    expect(q.zeroPoints).toHaveLength(N * Math.ceil(blocks / 2));
    const back = dequantizeQ4(q, K, N);
    for (let k = 0; k < K; k++) {
      for (let n = 0; n < N; n++) {
        const scale = q.scales[n * blocks + Math.floor(k / blockSize)]!;
        expect(Math.abs(w[k * N + n]! - back[k * N + n]!), `k=${k} n=${n}`).toBeLessThanOrEqual((scale / 2) * (1 + REL));
      }
    }
    // the scale of a block spans its own range (max - min, 0 included) in 15 steps
    for (let n = 0; n < N; n++) {
      for (let b = 0; b < blocks; b++) {
        let min = 0;
        let max = 0;
        for (let k = b * blockSize; k < Math.min(K, (b + 1) * blockSize); k++) {
          min = Math.min(min, w[k * N + n]!);
          max = Math.max(max, w[k * N + n]!);
        }
        expect(q.scales[n * blocks + b]! / ((max - min) / 15)).toBeCloseTo(1, 5);
      }
    }
    if (blocks % 2 === 1) {
      // the unused high nibble of each column's last zero-point byte stays 0
      for (let n = 0; n < N; n++) expect(q.zeroPoints[n * Math.ceil(blocks / 2) + (blocks >> 1)]! >> 4).toBe(0);
    }
  });

  it('asymmetric: the zero point follows where 0 sits in each block', () => {
    const K = 32;
    const blockSize = 16;
    // column 0: block 0 all positive, block 1 all negative; column 1: blocks over [-1, 2] and [-0.3, 1.2]
    const col0 = [...Array.from({ length: 16 }, (_, i) => 1 + i / 15), ...Array.from({ length: 16 }, (_, i) => -1 - i / 15)];
    const col1 = [...Array.from({ length: 16 }, (_, i) => -1 + i / 5), ...Array.from({ length: 16 }, (_, i) => -0.3 + i / 10)];
    const w = new Float32Array(K * 2);
    for (let k = 0; k < K; k++) {
      w[k * 2] = col0[k]!;
      w[k * 2 + 1] = col1[k]!;
    }
    const q = quantizeMatMulNBits(w, K, 2, blockSize);
    const zp = (n: number, b: number): number => (b & 1 ? q.zeroPoints[n]! >> 4 : q.zeroPoints[n]! & 0x0f);
    expect([zp(0, 0), zp(0, 1)]).toEqual([0, 15]);
    expect([zp(1, 0), zp(1, 1)]).toEqual([5, 3]); // 1 / (3/15) = 5; 0.3 / (1.5/15) = 3
    // the all-positive block spends its 15 steps on [0, 2], not on [-2, 2]
    expect(q.scales[0]).toBeCloseTo(2 / 15, 6);
  });

  it('exact zeros stay exact, and an all-zero column dequantizes to zeros with a finite scale', () => {
    const K = 40;
    const N = 3;
    const w = matrix(K, N, 5);
    for (let k = 0; k < K; k++) w[k * N + 1] = 0;
    for (let k = 0; k < K; k += 3) w[k * N] = 0;
    const q = quantizeMatMulNBits(w, K, N, 16);
    const back = dequantizeQ4(q, K, N);
    for (let k = 0; k < K; k++) expect(back[k * N + 1]).toBe(0);
    for (let k = 0; k < K; k += 3) expect(back[k * N]).toBe(0);
    for (let b = 0; b < q.blocksPerColumn; b++) expect(q.scales[q.blocksPerColumn + b]).toBe(1);
  });

  it.each([0, 8, 15, 48, 100])('refuses block size %i', (blockSize) => {
    expect(() => quantizeMatMulNBits(new Float32Array(64), 64, 1, blockSize)).toThrow(`block size ${blockSize} must be a power of two >= 16`);
  });
});
