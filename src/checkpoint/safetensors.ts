/**
 * Reads the safetensors format: an 8-byte little-endian header length, a JSON header mapping
 * tensor names to {dtype, shape, data_offsets}, then the raw little-endian data.
 */
import { ModelFileError } from '../errors.js';
import { FLOAT_DTYPES, elementCount, readAsFloat32, STORAGE_ITEM_SIZE, type StateDict, type StorageDtype } from './tensor.js';

const DTYPES: Record<string, StorageDtype> = {
  F32: 'float32',
  F64: 'float64',
  F16: 'float16',
  BF16: 'bfloat16',
  I64: 'int64',
  I32: 'int32',
  I16: 'int16',
  I8: 'int8',
  U8: 'uint8',
  BOOL: 'bool',
};

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

export function readSafetensors(bytes: Uint8Array, file: string, wanted: (name: string) => boolean = () => true): StateDict {
  if (bytes.length < 8) throw new ModelFileError(file, 'too short to be a safetensors file');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength <= 0 || 8 + headerLength > bytes.length) {
    throw new ModelFileError(file, 'header length points past the end of the file (truncated or not safetensors)');
  }
  let header: Record<string, HeaderEntry | Record<string, string>>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  } catch {
    throw new ModelFileError(file, 'header is not valid JSON (corrupt or not safetensors)');
  }
  const data = bytes.subarray(8 + headerLength);
  const out: StateDict = new Map();
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__' || !wanted(name)) continue;
    const e = entry as HeaderEntry;
    const dtype = DTYPES[e.dtype];
    if (!dtype) throw new ModelFileError(file, `tensor ${name}: unsupported dtype ${String(e.dtype)}`);
    if (!FLOAT_DTYPES.has(dtype)) continue;
    if (!Array.isArray(e.shape) || !Array.isArray(e.data_offsets)) throw new ModelFileError(file, `tensor ${name}: malformed header entry`);
    const [begin, end] = e.data_offsets;
    const count = elementCount(e.shape);
    if (end > data.length) throw new ModelFileError(file, `tensor ${name}: data runs past the end of the file (truncated)`);
    if (end - begin !== count * STORAGE_ITEM_SIZE[dtype]) throw new ModelFileError(file, `tensor ${name}: data size does not match its shape`);
    const stride = e.shape.map((_, i) => elementCount(e.shape.slice(i + 1)));
    out.set(name, { name, shape: e.shape, data: readAsFloat32(data.subarray(begin, end), dtype, 0, e.shape, stride) });
  }
  return out;
}
