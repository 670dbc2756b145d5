/**
 * Reads PyTorch's zip-format checkpoints (`torch.save` since 1.6, what ModelScope and Hugging Face
 * ship as pytorch_model.bin): `<root>/data.pkl` describes the state dict, `<root>/data/<key>` hold
 * the raw little-endian storages. The pickle is interpreted by a restricted reader (./pickle.ts).
 */
import { unzipSync } from 'fflate';
import { ModelFileError } from '../errors.js';
import { PickleError, unpickle, type TensorRef } from './pickle.js';
import { FLOAT_DTYPES, STORAGE_ITEM_SIZE, elementCount, readAsFloat32, type StateDict } from './tensor.js';

const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];

export function readPytorchCheckpoint(bytes: Uint8Array, file: string, wanted: (name: string) => boolean = () => true): StateDict {
  if (bytes.length < 4 || ZIP_MAGIC.some((b, i) => bytes[i] !== b)) {
    if (bytes.length >= 2 && bytes[0] === 0x80) {
      throw new ModelFileError(
        file,
        'legacy (pre-1.6, non-zip) PyTorch format is not supported; re-save it with a current torch.save or convert it to model.safetensors',
      );
    }
    throw new ModelFileError(file, 'not a PyTorch zip checkpoint (bad magic bytes)');
  }
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes);
  } catch (err) {
    throw new ModelFileError(file, `truncated or corrupt zip archive (${(err as Error).message})`);
  }
  const pklName = Object.keys(entries).find((n) => n === 'data.pkl' || /^[^/]+\/data\.pkl$/.test(n));
  if (!pklName) throw new ModelFileError(file, 'zip archive has no data.pkl: not a torch.save checkpoint');
  const root = pklName.slice(0, -'data.pkl'.length);

  let state: unknown;
  try {
    state = unpickle(entries[pklName]!);
  } catch (err) {
    if (err instanceof PickleError) throw new ModelFileError(file, err.message);
    throw err;
  }
  if (state instanceof Map && !hasTensors(state) && state.get('state_dict') instanceof Map) state = state.get('state_dict');
  if (!(state instanceof Map)) throw new ModelFileError(file, 'the pickle does not hold a state dict');

  const out: StateDict = new Map();
  for (const [key, value] of state) {
    const name = String(key);
    if (!isTensorRef(value) || !wanted(name)) continue;
    if (!FLOAT_DTYPES.has(value.storage.dtype)) continue; // integer buffers (position_ids) carry no weights
    const storageName = `${root}data/${value.storage.key}`;
    const storage = entries[storageName];
    if (!storage) throw new ModelFileError(file, `tensor ${name}: storage ${value.storage.key} missing from the archive`);
    const itemSize = STORAGE_ITEM_SIZE[value.storage.dtype];
    const needed = maxElementIndex(value) + 1;
    if (storage.length < needed * itemSize || storage.length < value.storage.numel * itemSize) {
      throw new ModelFileError(file, `tensor ${name}: storage ${value.storage.key} is truncated`);
    }
    out.set(name, {
      name,
      shape: value.shape,
      data: readAsFloat32(storage, value.storage.dtype, value.offset, value.shape, value.stride),
    });
  }
  return out;
}

function hasTensors(m: Map<unknown, unknown>): boolean {
  for (const v of m.values()) if (isTensorRef(v)) return true;
  return false;
}

function isTensorRef(v: unknown): v is TensorRef {
  return typeof v === 'object' && v !== null && (v as TensorRef).kind === 'tensor';
}

function maxElementIndex(t: TensorRef): number {
  if (elementCount(t.shape) === 0) return t.offset - 1;
  let max = t.offset;
  t.shape.forEach((d, i) => (max += (d - 1) * t.stride[i]!));
  return max;
}
