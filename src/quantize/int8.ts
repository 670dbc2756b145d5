/**
 * Symmetric int8 weight quantization for onnxruntime's DynamicQuantizeMatMul (activations are
 * quantized dynamically at run time by the op itself).
 */

export interface Int8Columns {
  /** [K, N] row-major, the MatMul's B operand. */
  values: Int8Array;
  /** One scale per output column: w ~= values * scale. */
  scales: Float32Array;
}

/**
 * Per-output-channel quantization of a MatMul weight `w` laid out [K, N].
 * `maxLevel` 127 uses the full int8 range; onnxruntime's u8s8 kernels on CPUs without VNNI add
 * pairs of u8*s8 products in int16 and can saturate, so the converter may pass 63 ("reduce range").
 */
export function quantizeColumnsInt8(w: Float32Array, K: number, N: number, maxLevel = 127): Int8Columns {
  const absMax = new Float32Array(N);
  for (let k = 0; k < K; k++) {
    const row = k * N;
    for (let n = 0; n < N; n++) {
      const a = Math.abs(w[row + n]!);
      if (a > absMax[n]!) absMax[n] = a;
    }
  }
  const scales = new Float32Array(N);
  const inverse = new Float32Array(N);
  for (let n = 0; n < N; n++) {
    scales[n] = absMax[n]! > 0 ? absMax[n]! / maxLevel : 1;
    inverse[n] = 1 / scales[n]!;
  }
  const values = new Int8Array(K * N);
  for (let k = 0; k < K; k++) {
    const row = k * N;
    for (let n = 0; n < N; n++) values[row + n] = Math.round(w[row + n]! * inverse[n]!);
  }
  return { values, scales };
}

export interface Int8Rows {
  /** [R, C] row-major. */
  values: Int8Array;
  /** One scale per row (per token for an embedding table). */
  scales: Float32Array;
}

/** Per-row symmetric int8, for embedding tables that are gathered row by row. */
export function quantizeRowsInt8(table: Float32Array, rows: number, cols: number): Int8Rows {
  const values = new Int8Array(rows * cols);
  const scales = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let absMax = 0;
    for (let c = 0; c < cols; c++) absMax = Math.max(absMax, Math.abs(table[base + c]!));
    const scale = absMax > 0 ? absMax / 127 : 1;
    scales[r] = scale;
    const inv = 1 / scale;
    for (let c = 0; c < cols; c++) values[base + c] = Math.round(table[base + c]! * inv);
  }
  return { values, scales };
}
