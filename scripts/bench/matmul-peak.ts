/**
 * The roofline we chase: the throughput of one large MatMul (fp32 MatMul and int8
 * DynamicQuantizeMatMul, the ops the encoder spends its time in) in the same runtime, same
 * threads, same machine.
 */
import * as ort from 'onnxruntime-node';
import { GraphBuilder, TensorType } from '../../src/onnx/graph-builder.js';
import { quantizeColumnsInt8 } from '../../src/quantize/int8.js';
import { summarize, timeIt, type Summary } from './stats.js';

export async function matmulPeak(kind: 'fp32' | 'int8', M: number, K: number, N: number, threads: number, runs: number): Promise<Summary> {
  const w = new Float32Array(K * N).map((_, i) => Math.sin(i) * 0.05);
  const g = new GraphBuilder();
  const x = g.input('x', TensorType.FLOAT, [M, K]);
  let y: string;
  if (kind === 'fp32') {
    y = g.node('MatMul', [x, g.initializer('w', TensorType.FLOAT, [K, N], w)], 'y')[0]!;
  } else {
    const q = quantizeColumnsInt8(w, K, N, 63);
    y = g.msNode('DynamicQuantizeMatMul', [x, g.initializer('w', TensorType.INT8, [K, N], q.values), g.initializer('s', TensorType.FLOAT, [N], q.scales)], 'y')[0]!;
  }
  g.rename(y, 'y_out');
  g.output('y_out', TensorType.FLOAT, [M, N]);
  const session = await ort.InferenceSession.create(g.serialize({}), { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
  const input = new ort.Tensor('float32', new Float32Array(M * K).map((_, i) => Math.cos(i)), [M, K]);
  await session.run({ x: input });
  const gops: number[] = [];
  for (let r = 0; r < runs; r++) {
    const ms = await timeIt(() => session.run({ x: input }));
    gops.push((2 * M * K * N) / ms / 1e6);
  }
  await session.release();
  return summarize(gops);
}
