/**
 * The restricted unpickler (src/checkpoint/pickle.ts) on pickle streams written op by op here, in
 * the protocol-2 shape torch.save gives a state dict: an OrderedDict built by REDUCE, filled by
 * SETITEMS with tensors from torch._utils._rebuild_tensor_v2 over persistent-id storages, memo
 * references, and the OrderedDict's _metadata set by BUILD. Then everything it must refuse.
 */
import { describe, expect, it } from 'vitest';
import { PickleError, unpickle, type TensorRef } from '../../src/checkpoint/pickle.js';

const utf8 = new TextEncoder();

/** Opcodes by their pickletools names. */
const OP = {
  PROTO: 0x80,
  STOP: 0x2e,
  MARK: 0x28,
  EMPTY_DICT: 0x7d,
  EMPTY_LIST: 0x5d,
  EMPTY_TUPLE: 0x29,
  TUPLE: 0x74,
  TUPLE1: 0x85,
  TUPLE2: 0x86,
  TUPLE3: 0x87,
  APPENDS: 0x65,
  SETITEM: 0x73,
  SETITEMS: 0x75,
  BINPUT: 0x71,
  BINGET: 0x68,
  BININT: 0x4a,
  BININT1: 0x4b,
  BININT2: 0x4d,
  LONG1: 0x8a,
  BINFLOAT: 0x47,
  NONE: 0x4e,
  NEWTRUE: 0x88,
  NEWFALSE: 0x89,
  GLOBAL: 0x63,
  STACK_GLOBAL: 0x93,
  SHORT_BINUNICODE: 0x8c,
  REDUCE: 0x52,
  NEWOBJ: 0x81,
  BUILD: 0x62,
  BINPERSID: 0x51,
  INST: 0x69,
} as const;

type Part = number | Uint8Array;

function pickle(...parts: Part[]): Uint8Array {
  const out: number[] = [];
  for (const p of parts) typeof p === 'number' ? out.push(p) : out.push(...p);
  return Uint8Array.from(out);
}

const u32 = (n: number): Uint8Array => new Uint8Array(new Uint32Array([n]).buffer);

/** BINUNICODE: 'X', u32 length, UTF-8 bytes (what protocol 2 writes for every str). */
function str(s: string): Uint8Array {
  const b = utf8.encode(s);
  return pickle(0x58, u32(b.length), b);
}

/** GLOBAL: 'c', module, newline, name, newline. */
function global(module: string, name: string): Uint8Array {
  return pickle(OP.GLOBAL, utf8.encode(`${module}\n${name}\n`));
}

const int1 = (n: number): Uint8Array => pickle(OP.BININT1, n);

/** The tensor rebuild call torch.save writes for one tensor of a state dict (memo slots from `memo`). */
function tensor(opts: { storageKey: string; numel: number; offset: number; shape: number[]; stride: number[]; storageType?: Part[] }): Uint8Array {
  const dims = (d: number[]): Uint8Array => (d.length === 2 ? pickle(int1(d[0]!), int1(d[1]!), OP.TUPLE2) : d.length === 1 ? pickle(int1(d[0]!), OP.TUPLE1) : pickle(OP.MARK, ...d.map(int1), OP.TUPLE));
  return pickle(
    global('torch._utils', '_rebuild_tensor_v2'),
    OP.MARK,
    // persistent id ('storage', torch.FloatStorage, key, 'cpu', numel)
    OP.MARK,
    str('storage'),
    ...(opts.storageType ?? [global('torch', 'FloatStorage')]),
    str(opts.storageKey),
    str('cpu'),
    int1(opts.numel),
    OP.TUPLE,
    OP.BINPERSID,
    int1(opts.offset),
    dims(opts.shape),
    dims(opts.stride),
    OP.NEWFALSE, // requires_grad
    global('collections', 'OrderedDict'), // backward hooks: an empty OrderedDict
    OP.EMPTY_TUPLE,
    OP.REDUCE,
    OP.TUPLE,
    OP.REDUCE,
  );
}

/** A two-tensor state dict as torch.save writes it (protocol 2), with memo use and _metadata. */
function stateDict(): Uint8Array {
  return pickle(
    OP.PROTO, 2,
    global('collections', 'OrderedDict'), OP.BINPUT, 0,
    OP.EMPTY_TUPLE, OP.REDUCE, OP.BINPUT, 1,
    OP.MARK,
    str('embeddings.word_embeddings.weight'),
    tensor({ storageKey: '0', numel: 6, offset: 0, shape: [2, 3], stride: [3, 1] }),
    str('pooler.dense.bias'),
    // a second view into the same storage, from element 2
    tensor({ storageKey: '0', numel: 6, offset: 2, shape: [3], stride: [1] }),
    OP.SETITEMS,
    // state dicts carry `_metadata` (an OrderedDict of version dicts) set on the object by BUILD
    OP.EMPTY_DICT, str('_metadata'), OP.BINGET, 0, OP.EMPTY_TUPLE, OP.REDUCE, OP.SETITEM,
    OP.BUILD,
    OP.STOP,
  );
}

function refusal(bytes: Uint8Array): string {
  try {
    unpickle(bytes);
  } catch (err) {
    expect(err).toBeInstanceOf(PickleError);
    return (err as Error).message;
  }
  throw new Error('unpickle accepted the stream');
}

describe('unpickle: what torch.save writes', () => {
  it('reads an OrderedDict state dict of rebuilt tensors over persistent-id storages', () => {
    const root = unpickle(stateDict());
    expect(root).toBeInstanceOf(Map);
    const state = root as Map<string, TensorRef>;
    expect([...state.keys()]).toEqual(['embeddings.word_embeddings.weight', 'pooler.dense.bias']);
    expect(state.get('embeddings.word_embeddings.weight')).toEqual({
      kind: 'tensor',
      storage: { kind: 'storage', dtype: 'float32', key: '0', numel: 6 },
      offset: 0,
      shape: [2, 3],
      stride: [3, 1],
    });
    expect(state.get('pooler.dense.bias')).toMatchObject({ offset: 2, shape: [3], stride: [1], storage: { key: '0', dtype: 'float32' } });
  });

  it('maps every storage class to its dtype', () => {
    const cases: [string, string][] = [
      ['HalfStorage', 'float16'],
      ['BFloat16Storage', 'bfloat16'],
      ['DoubleStorage', 'float64'],
      ['LongStorage', 'int64'],
      ['IntStorage', 'int32'],
      ['ByteStorage', 'uint8'],
      ['BoolStorage', 'bool'],
    ];
    for (const [storage, dtype] of cases) {
      const t = unpickle(pickle(OP.PROTO, 2, tensor({ storageKey: '7', numel: 4, offset: 0, shape: [4], stride: [1], storageType: [global('torch', storage)] }), OP.STOP));
      expect(t, storage).toMatchObject({ kind: 'tensor', storage: { dtype, key: '7', numel: 4 } });
    }
  });

  it('reads dicts, tuples, lists and scalars', () => {
    const bytes = pickle(
      OP.PROTO, 2,
      OP.EMPTY_DICT,
      OP.MARK,
      str('tuple3'), int1(1), OP.BININT2, 0x34, 0x12, OP.BININT, u32(0xfffffffe), OP.TUPLE3,
      str('list'), OP.EMPTY_LIST, OP.MARK, OP.NONE, OP.NEWTRUE, OP.NEWFALSE, OP.APPENDS,
      str('long1'), OP.LONG1, 2, 0x00, 0x80, // -32768 as a little-endian two's complement LONG1
      str('float'), OP.BINFLOAT, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0, // 1.5, big-endian
      str('unicode'), str('中文'),
      OP.SETITEMS,
      OP.STOP,
    );
    const d = unpickle(bytes) as Map<string, unknown>;
    expect(Object.fromEntries(d)).toEqual({ tuple3: [1, 0x1234, -2], list: [null, true, false], long1: -32768, float: 1.5, unicode: '中文' });
  });

  it('accepts protocol-4 STACK_GLOBAL for an allowed global', () => {
    const bytes = pickle(OP.PROTO, 4, OP.SHORT_BINUNICODE, 11, utf8.encode('collections'), OP.SHORT_BINUNICODE, 11, utf8.encode('OrderedDict'), OP.STACK_GLOBAL, OP.EMPTY_TUPLE, OP.REDUCE, OP.STOP);
    expect(unpickle(bytes)).toEqual(new Map());
  });
});

describe('unpickle: refusals, each with its message', () => {
  it.each([
    ['os', 'system'],
    ['builtins', 'eval'],
    ['builtins', 'exec'],
    ['subprocess', 'Popen'],
    ['torch', 'load'],
    ['collections', 'defaultdict'],
  ])('refuses the global %s.%s before anything is called', (module, name) => {
    // The classic payload: GLOBAL os.system, ('echo pwned',), REDUCE.
    const message = refusal(pickle(OP.PROTO, 2, global(module, name), str('echo pwned'), OP.TUPLE1, OP.REDUCE, OP.STOP));
    expect(message).toBe(`refusing to load: the checkpoint references ${module}.${name}, which a plain state dict never does`);
  });

  it('refuses a forbidden global reached through STACK_GLOBAL', () => {
    const message = refusal(pickle(OP.PROTO, 4, OP.SHORT_BINUNICODE, 5, utf8.encode('posix'), OP.SHORT_BINUNICODE, 6, utf8.encode('system'), OP.STACK_GLOBAL, OP.STOP));
    expect(message).toBe('refusing to load: the checkpoint references posix.system, which a plain state dict never does');
  });

  it('refuses a forbidden global hidden inside an otherwise valid state dict', () => {
    const valid = stateDict();
    // Replace the tensor's backward-hooks OrderedDict by builtins.eval: the first refusal wins.
    const evil = pickle(
      OP.PROTO, 2,
      global('collections', 'OrderedDict'), OP.EMPTY_TUPLE, OP.REDUCE,
      str('x'), global('builtins', 'eval'), str('1+1'), OP.TUPLE1, OP.REDUCE, OP.SETITEM,
      OP.STOP,
    );
    expect(() => unpickle(valid)).not.toThrow();
    expect(refusal(evil)).toMatch(/references builtins\.eval/);
  });

  it('REDUCE of something that is not an allowed callable', () => {
    // A storage class resolves to a dtype, not a callable.
    expect(refusal(pickle(OP.PROTO, 2, global('torch', 'FloatStorage'), OP.EMPTY_TUPLE, OP.REDUCE, OP.STOP))).toBe('REDUCE on a non-callable');
    // A plain string on the stack is no callable either (no name lookup of any kind).
    expect(refusal(pickle(OP.PROTO, 2, str('os.system'), str('id'), OP.TUPLE1, OP.REDUCE, OP.STOP))).toBe('REDUCE on a non-callable');
    expect(refusal(pickle(OP.PROTO, 2, str('x'), OP.EMPTY_TUPLE, OP.NEWOBJ, OP.STOP))).toBe('NEWOBJ on a non-class');
  });

  it('a tensor rebuild without a storage or a shape', () => {
    const noStorage = pickle(OP.PROTO, 2, global('torch._utils', '_rebuild_tensor_v2'), OP.MARK, str('nope'), int1(0), OP.EMPTY_TUPLE, OP.EMPTY_TUPLE, OP.TUPLE, OP.REDUCE, OP.STOP);
    expect(refusal(noStorage)).toBe('tensor without a storage');
  });

  it('a persistent id that is not a storage, or of an unknown storage type', () => {
    expect(refusal(pickle(OP.PROTO, 2, str('module'), str('x'), OP.TUPLE2, OP.BINPERSID, OP.STOP))).toBe('unknown persistent id');
    expect(refusal(pickle(OP.PROTO, 2, OP.MARK, str('storage'), str('float32; rm -rf /'), str('0'), str('cpu'), int1(1), OP.TUPLE, OP.BINPERSID, OP.STOP))).toBe('unknown storage type');
  });

  it('every truncation of a valid stream is reported as such', () => {
    const bytes = stateDict();
    for (let n = 0; n < bytes.length; n++) {
      expect(() => unpickle(bytes.subarray(0, n)), `first ${n} of ${bytes.length} bytes`).toThrow(new PickleError('pickle data ends early (truncated file?)'));
    }
    expect(() => unpickle(bytes)).not.toThrow();
  });

  it('an unknown opcode, and the code-running opcodes of protocol 0 (INST), name the byte', () => {
    expect(refusal(pickle(OP.PROTO, 2, OP.EMPTY_DICT, 0xff, OP.STOP))).toBe('unsupported pickle opcode 0xff at byte 3');
    expect(refusal(pickle(OP.PROTO, 2, OP.INST, utf8.encode('os\nsystem\n'), OP.STOP))).toBe('unsupported pickle opcode 0x69 at byte 2');
  });

  it('malformed structure: stack underflow, a missing MARK, a missing memo entry, SETITEM on a list', () => {
    expect(refusal(pickle(OP.PROTO, 2, OP.STOP))).toBe('pickle stack underflow');
    expect(refusal(pickle(OP.PROTO, 2, int1(1), OP.TUPLE, OP.STOP))).toBe('pickle MARK missing');
    expect(refusal(pickle(OP.PROTO, 2, OP.BINGET, 9, OP.STOP))).toBe('pickle memo 9 missing');
    expect(refusal(pickle(OP.PROTO, 2, OP.EMPTY_LIST, int1(1), int1(2), OP.SETITEM, OP.STOP))).toBe('SETITEM on a non-dict');
  });
});
