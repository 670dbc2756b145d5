/** A named fp32 tensor as read from a checkpoint (half and bfloat16 are widened on read). */
export interface Float32Tensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

/** A checkpoint's tensors by name, as stored (prefixes such as `bert.` not yet removed). */
export type StateDict = Map<string, Float32Tensor>;

export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** IEEE half -> float. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/**
 * Reads `count` elements of a storage dtype starting at `byteOffset` as fp32, following the
 * element `stride`s of a (possibly non-contiguous) view. Integer tensors are converted too,
 * though the converter only keeps float weights.
 */
export function readAsFloat32(
  bytes: Uint8Array,
  dtype: StorageDtype,
  elementOffset: number,
  shape: readonly number[],
  stride: readonly number[],
): Float32Array {
  const count = elementCount(shape);
  const out = new Float32Array(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = STORAGE_ITEM_SIZE[dtype];
  const read = (index: number): number => {
    const at = index * size;
    switch (dtype) {
      case 'float32':
        return view.getFloat32(at, true);
      case 'float64':
        return view.getFloat64(at, true);
      case 'float16':
        return halfToFloat(view.getUint16(at, true));
      case 'bfloat16':
        return new Float32Array(new Uint32Array([view.getUint16(at, true) << 16]).buffer)[0]!;
      case 'int64':
        return Number(view.getBigInt64(at, true));
      case 'int32':
        return view.getInt32(at, true);
      case 'int16':
        return view.getInt16(at, true);
      case 'int8':
        return view.getInt8(at);
      case 'uint8':
      case 'bool':
        return view.getUint8(at);
    }
  };
  const contiguous = isContiguous(shape, stride);
  if (contiguous && dtype === 'float32' && (bytes.byteOffset + elementOffset * 4) % 4 === 0) {
    out.set(new Float32Array(bytes.buffer, bytes.byteOffset + elementOffset * 4, count));
    return out;
  }
  if (contiguous) {
    for (let i = 0; i < count; i++) out[i] = read(elementOffset + i);
    return out;
  }
  // General strided gather (rare: a transposed view saved without .contiguous()).
  const rank = shape.length;
  const index = new Array<number>(rank).fill(0);
  for (let i = 0; i < count; i++) {
    let src = elementOffset;
    for (let d = 0; d < rank; d++) src += index[d]! * stride[d]!;
    out[i] = read(src);
    for (let d = rank - 1; d >= 0; d--) {
      if (++index[d]! < shape[d]!) break;
      index[d] = 0;
    }
  }
  return out;
}

export function isContiguous(shape: readonly number[], stride: readonly number[]): boolean {
  let expected = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] !== 1 && stride[d] !== expected) return false;
    expected *= shape[d]!;
  }
  return true;
}

export type StorageDtype =
  | 'float32'
  | 'float64'
  | 'float16'
  | 'bfloat16'
  | 'int64'
  | 'int32'
  | 'int16'
  | 'int8'
  | 'uint8'
  | 'bool';

export const STORAGE_ITEM_SIZE: Record<StorageDtype, number> = {
  float32: 4,
  float64: 8,
  float16: 2,
  bfloat16: 2,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
};

export const FLOAT_DTYPES: ReadonlySet<StorageDtype> = new Set(['float32', 'float64', 'float16', 'bfloat16']);
