/**
 * GraphBuilder (src/onnx/graph-builder.ts): names, initializers, attributes and serialization read
 * back through onnx-proto, then small graphs run for real in onnxruntime-node -- fp32 MatMul,
 * int8 DynamicQuantizeMatMul and q4 MatMulNBits with the quantizers' own output, and a model whose
 * weights live in an external data file -- against arithmetic done here.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder, TensorType } from '../../src/onnx/graph-builder.js';
import { quantizeColumnsInt8 } from '../../src/quantize/int8.js';
import { quantizeMatMulNBits } from '../../src/quantize/q4.js';
import { dequantizeQ4, random } from '../helpers/quantized.js';

const { onnx } = onnxProto;

function decode(bytes: Uint8Array): onnxProto.onnx.ModelProto {
  return onnx.ModelProto.decode(bytes);
}

function randomArray(length: number, seed: number, scale = 1): Float32Array {
  const next = random(seed);
  return Float32Array.from({ length }, () => (next() * 2 - 1) * scale);
}

/** x [M, K] times w [K, N], row-major, in float64. */
function matmul(x: Float32Array, w: Float32Array, M: number, K: number, N: number): Float64Array {
  const out = new Float64Array(M * N);
  for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) out[m * N + n] += x[m * K + k]! * w[k * N + n]!;
  return out;
}

async function run(model: Uint8Array | string, x: Float32Array, dims: number[]): Promise<ort.Tensor> {
  const session = await ort.InferenceSession.create(model as Uint8Array, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'disabled' });
  try {
    const result = await session.run({ x: new ort.Tensor('float32', x, dims) });
    return result.y!;
  } finally {
    await session.release();
  }
}

describe('GraphBuilder: structure', () => {
  it('hands out unique value names from readable stems', () => {
    const g = new GraphBuilder();
    const names = [g.name('layer.0.out'), g.name('layer.0.out'), g.name('layer.0.out'), g.name('other')];
    expect(names[0]).toBe('layer.0.out');
    expect(names[3]).toBe('other');
    expect(new Set(names).size).toBe(4);
    names.slice(1, 3).forEach((n) => expect(n).toMatch(/^layer\.0\.out_\d+$/));
    // graph inputs reserve their names too
    g.input('input_ids', TensorType.INT64, ['batch', 'sequence']);
    expect(g.name('input_ids')).not.toBe('input_ids');
  });

  it('stores initializers with their dtype, dims and little-endian raw bytes, and counts their bytes', () => {
    const g = new GraphBuilder();
    const w = Float32Array.of(1.5, -2, 0.25, 8);
    const names = [
      g.initializer('w', TensorType.FLOAT, [2, 2], w),
      g.initializer('q', TensorType.INT8, [3], Int8Array.of(-128, 0, 127)),
      g.initializer('u', TensorType.UINT8, [2], Uint8Array.of(0, 255)),
      g.initializer('i', TensorType.INT32, [1], Int32Array.of(-5)),
      g.scalarInt64('axis', -1),
      g.int64s('shape', [0, 0, 12, 64]),
      g.initializer('w', TensorType.FLOAT, [1], Float32Array.of(3)), // same stem: a fresh name
    ];
    expect(names[6]).not.toBe('w');
    expect(g.initializerBytes).toBe(16 + 3 + 2 + 4 + 8 + 32 + 4);
    const graph = decode(g.serialize({})).graph!;
    const byName = new Map(graph.initializer!.map((t) => [t.name!, t]));
    // dims decode as protobuf Longs
    const header = (name: string): { dataType: number; dims: number[] } => ({ dataType: byName.get(name)!.dataType!, dims: byName.get(name)!.dims!.map(Number) });
    expect(header('w')).toEqual({ dataType: 1, dims: [2, 2] });
    expect(new Float32Array(Uint8Array.from(byName.get('w')!.rawData!).buffer)).toEqual(w);
    expect(header('q')).toEqual({ dataType: 3, dims: [3] });
    expect(Array.from(new Int8Array(Uint8Array.from(byName.get('q')!.rawData!).buffer))).toEqual([-128, 0, 127]);
    expect(header('u')).toEqual({ dataType: 2, dims: [2] });
    expect(header('i')).toEqual({ dataType: 6, dims: [1] });
    expect(header('axis')).toEqual({ dataType: 7, dims: [] });
    expect(Array.from(new BigInt64Array(Uint8Array.from(byName.get('axis')!.rawData!).buffer))).toEqual([-1n]);
    expect(Array.from(new BigInt64Array(Uint8Array.from(byName.get('shape')!.rawData!).buffer))).toEqual([0n, 0n, 12n, 64n]);
    expect(header('shape')).toEqual({ dataType: 7, dims: [4] });
  });

  it('emits nodes with typed attributes, contrib-domain nodes, inputs/outputs, opsets and metadata', () => {
    const g = new GraphBuilder();
    const x = g.input('x', TensorType.FLOAT, ['batch', 4]);
    const [a] = g.node('Softmax', [x], 'probs', { axis: -1 });
    const [b] = g.node('Custom', [a!], 'custom', { mode: 'fast', perm: [0, 2, 1], alpha: { float: 0.5 }, gains: { floats: [1, 2] } });
    const [c] = g.msNode('FastGelu', [b!], 'probs'); // reused stem: a fresh name
    g.rename(c!, 'y');
    g.output('y', TensorType.FLOAT, ['batch', 4]);
    const model = decode(g.serialize({ model_id: 'tiny', dtype: 'fp32' }));

    expect(model.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', 17], ['com.microsoft', 1]]);
    expect(Object.fromEntries(model.metadataProps.map((p) => [p.key, p.value]))).toEqual({ model_id: 'tiny', dtype: 'fp32' });
    const graph = model.graph!;
    expect(graph.input!.map((i) => [i.name, i.type!.tensorType!.elemType, i.type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue))])).toEqual([['x', 1, ['batch', 4]]]);
    expect(graph.output!.map((o) => o.name)).toEqual(['y']);

    const [softmax, custom, gelu] = graph.node!;
    expect(softmax).toMatchObject({ opType: 'Softmax', domain: '', input: ['x'], output: ['probs'] });
    expect(Number(softmax!.attribute![0]!.i)).toBe(-1);
    expect(softmax!.attribute![0]!.type).toBe(onnx.AttributeProto.AttributeType.INT);
    const attrs = new Map(custom!.attribute!.map((at) => [at.name!, at]));
    expect(new TextDecoder().decode(attrs.get('mode')!.s!)).toBe('fast');
    expect(attrs.get('mode')!.type).toBe(onnx.AttributeProto.AttributeType.STRING);
    expect(attrs.get('perm')!.ints!.map(Number)).toEqual([0, 2, 1]);
    expect(attrs.get('perm')!.type).toBe(onnx.AttributeProto.AttributeType.INTS);
    expect(attrs.get('alpha')).toMatchObject({ f: 0.5, type: onnx.AttributeProto.AttributeType.FLOAT });
    expect(attrs.get('gains')).toMatchObject({ floats: [1, 2], type: onnx.AttributeProto.AttributeType.FLOATS });
    // rename reached the producer; node names are unique
    expect(gelu).toMatchObject({ opType: 'FastGelu', domain: 'com.microsoft', input: [custom!.output![0]], output: ['y'] });
    expect(new Set(graph.node!.map((n) => n.name)).size).toBe(3);
  });

  it('moves initializers of at least minBytes to one external data file at 64-byte aligned offsets', () => {
    const g = new GraphBuilder();
    const big1 = randomArray(300, 1);
    const big2 = randomArray(257, 2);
    const small = Float32Array.of(1, 2, 3);
    g.initializer('big1', TensorType.FLOAT, [300], big1);
    g.initializer('small', TensorType.FLOAT, [3], small);
    g.initializer('big2', TensorType.FLOAT, [257], big2);
    const { model, data } = g.serializeWithExternalData({}, 'model.data', 1024);
    const tensors = new Map(decode(model).graph!.initializer!.map((t) => [t.name!, t]));
    expect(tensors.get('small')!.rawData!.length).toBe(12);
    expect(tensors.get('small')!.dataLocation ?? 0).toBe(onnx.TensorProto.DataLocation.DEFAULT);
    for (const [name, values] of [['big1', big1], ['big2', big2]] as const) {
      const t = tensors.get(name)!;
      expect(t.dataLocation).toBe(onnx.TensorProto.DataLocation.EXTERNAL);
      expect(t.rawData?.length ?? 0).toBe(0);
      const ext = Object.fromEntries(t.externalData!.map((e) => [e.key, e.value]));
      expect(ext.location).toBe('model.data');
      const offset = Number(ext.offset);
      expect(offset % 64).toBe(0);
      expect(Number(ext.length)).toBe(values.byteLength);
      expect(new Float32Array(data.slice(offset, offset + values.byteLength).buffer)).toEqual(values);
    }
    expect(data.length).toBe(1216 + 257 * 4); // big1 at 0 (1200 bytes), big2 at the next 64-byte boundary
  });
});

describe('GraphBuilder: graphs run in onnxruntime-node', () => {
  const M = 3;
  const K = 40;
  const N = 6;
  const x = randomArray(M * K, 10);
  const w = randomArray(K * N, 11, 0.5);
  const bias = randomArray(N, 12);
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  /** y = x W + bias, in fp32: initializer layout and the dynamic batch dimension. */
  function fp32Graph(): GraphBuilder {
    const g = new GraphBuilder();
    const input = g.input('x', TensorType.FLOAT, ['batch', K]);
    const [h] = g.node('MatMul', [input, g.initializer('dense.weight', TensorType.FLOAT, [K, N], w)], 'dense.out');
    const [y] = g.node('Add', [h!, g.initializer('dense.bias', TensorType.FLOAT, [N], bias)], 'dense.biased');
    g.rename(y!, 'y');
    g.output('y', TensorType.FLOAT, ['batch', N]);
    return g;
  }

  function expectClose(actual: Float32Array, expected: Float64Array, tolerance: (i: number) => number): void {
    expect(actual).toHaveLength(expected.length);
    expected.forEach((e, i) => expect(Math.abs(actual[i]! - e), `element ${i}: ${actual[i]} vs ${e}`).toBeLessThanOrEqual(tolerance(i)));
  }

  it('fp32 MatMul + Add on a dynamic batch', async () => {
    const expected = matmul(x, w, M, K, N).map((v, i) => v + bias[i % N]!);
    const y = await run(fp32Graph().serialize({}), x, [M, K]);
    expect(y.dims).toEqual([M, N]);
    expectClose(y.data as Float32Array, expected, () => 1e-5);
    // one row through the same graph (the batch dimension is symbolic)
    const one = await run(fp32Graph().serialize({}), x.slice(0, K), [1, K]);
    expectClose(one.data as Float32Array, expected.slice(0, N), () => 1e-5);
  });

  it('the same graph with its weights in an external data file loads from disk and agrees', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'corom-graph-ext-'));
    dirs.push(dir);
    const { model, data } = fp32Graph().serializeWithExternalData({}, 'model.data', 64);
    expect(data.length).toBeGreaterThanOrEqual(w.byteLength);
    await writeFile(join(dir, 'model.onnx'), model);
    await writeFile(join(dir, 'model.data'), data);
    const y = await run(join(dir, 'model.onnx'), x, [M, K]);
    const expected = matmul(x, w, M, K, N).map((v, i) => v + bias[i % N]!);
    expectClose(y.data as Float32Array, expected, () => 1e-5);
  });

  it('int8 DynamicQuantizeMatMul with quantizeColumnsInt8 weights matches x times the dequantized weights', async () => {
    const q = quantizeColumnsInt8(w, K, N, 63);
    const g = new GraphBuilder();
    const input = g.input('x', TensorType.FLOAT, ['batch', K]);
    const b = g.initializer('w_int8', TensorType.INT8, [K, N], q.values);
    const s = g.initializer('w_scale', TensorType.FLOAT, [N], q.scales);
    const [y] = g.msNode('DynamicQuantizeMatMul', [input, b, s], 'out');
    g.rename(y!, 'y');
    g.output('y', TensorType.FLOAT, ['batch', N]);
    const dequantized = Float32Array.from(q.values, (v, i) => v * q.scales[i % N]!);
    const expected = matmul(x, dequantized, M, K, N);
    // The op quantizes x to uint8 per tensor at run time: each x is off by at most half its step,
    // so each output by at most half a step times the column's sum of |weights|.
    let lo = 0;
    let hi = 0;
    for (const v of x) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
    const halfStep = (hi - lo) / 255 / 2;
    const columnMass = Array.from({ length: N }, (_, n) => {
      let sum = 0;
      for (let k = 0; k < K; k++) sum += Math.abs(dequantized[k * N + n]!);
      return sum;
    });
    const out = await run(g.serialize({}), x, [M, K]);
    expectClose(out.data as Float32Array, expected, (i) => halfStep * columnMass[i % N]! * 1.05 + 1e-5);
  });

  it.each([16, 32])('q4 MatMulNBits (block %i) with quantizeMatMulNBits weights matches x times the dequantized weights', async (blockSize) => {
    const q = quantizeMatMulNBits(w, K, N, blockSize);
    const g = new GraphBuilder();
    const input = g.input('x', TensorType.FLOAT, ['batch', K]);
    const b = g.initializer('w_q4', TensorType.UINT8, [N, q.blocksPerColumn, q.blockSize / 2], q.packed);
    const s = g.initializer('w_scales', TensorType.FLOAT, [N * q.blocksPerColumn], q.scales);
    const z = g.initializer('w_zero_points', TensorType.UINT8, [q.zeroPoints.length], q.zeroPoints);
    const [y] = g.msNode('MatMulNBits', [input, b, s, z], 'out', { K, N, bits: 4, block_size: q.blockSize });
    g.rename(y!, 'y');
    g.output('y', TensorType.FLOAT, ['batch', N]);
    const expected = matmul(x, dequantizeQ4(q, K, N), M, K, N);
    const out = await run(g.serialize({}), x, [M, K]);
    expectClose(out.data as Float32Array, expected, () => 1e-4);
  });
});
