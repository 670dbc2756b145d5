/**
 * A small typed layer over onnx-proto for emitting graphs: initializers from typed arrays, nodes
 * with attributes, unique value names, and serialization. Only what the converter needs.
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

export const TensorType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  INT32: 6,
  INT64: 7,
} as const;
export type TensorTypeCode = (typeof TensorType)[keyof typeof TensorType];

export type AttributeValue = number | string | number[] | { float: number } | { floats: number[] };

const MS_DOMAIN = 'com.microsoft';

export class GraphBuilder {
  private readonly nodes: onnxProto.onnx.INodeProto[] = [];
  private readonly initializers: onnxProto.onnx.ITensorProto[] = [];
  private readonly inputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly outputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly used = new Set<string>();
  private counter = 0;
  /** Bytes of initializer data added so far: the weight size of the model. */
  initializerBytes = 0;

  /** A fresh value name from a readable stem. */
  name(stem: string): string {
    let n = stem;
    while (this.used.has(n)) n = `${stem}_${++this.counter}`;
    this.used.add(n);
    return n;
  }

  input(name: string, type: TensorTypeCode, dims: (number | string)[]): string {
    this.used.add(name);
    this.inputs.push(valueInfo(name, type, dims));
    return name;
  }

  output(name: string, type: TensorTypeCode, dims: (number | string)[]): void {
    this.outputs.push(valueInfo(name, type, dims));
  }

  /** Adds a constant tensor; data is stored as little-endian raw bytes. */
  initializer(stem: string, type: TensorTypeCode, dims: number[], data: Float32Array | Int8Array | Uint8Array | Int32Array | BigInt64Array): string {
    const name = this.name(stem);
    const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    this.initializerBytes += raw.byteLength;
    this.initializers.push({ name, dataType: type, dims, rawData: raw });
    return name;
  }

  scalarInt64(stem: string, value: number): string {
    return this.initializer(stem, TensorType.INT64, [], BigInt64Array.of(BigInt(value)));
  }

  int64s(stem: string, values: number[]): string {
    return this.initializer(stem, TensorType.INT64, [values.length], BigInt64Array.from(values.map(BigInt)));
  }

  /** Emits a node and returns its output names (fresh names from `outputs` stems). */
  node(opType: string, inputs: string[], outputs: string[] | string, attrs: Record<string, AttributeValue> = {}, domain = ''): string[] {
    const outNames = (Array.isArray(outputs) ? outputs : [outputs]).map((o) => this.name(o));
    this.nodes.push({
      opType,
      domain,
      name: this.name(`${opType}_node`),
      input: inputs,
      output: outNames,
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return outNames;
  }

  /** Emits a node of onnxruntime's com.microsoft contrib domain. */
  msNode(opType: string, inputs: string[], outputs: string[] | string, attrs: Record<string, AttributeValue> = {}): string[] {
    return this.node(opType, inputs, outputs, attrs, MS_DOMAIN);
  }

  /** Renames the value a node produced to a graph output name (the last node producing `from`). */
  rename(from: string, to: string): void {
    for (const n of this.nodes) n.output = n.output!.map((o) => (o === from ? to : o));
    for (const n of this.nodes) n.input = n.input!.map((i) => (i === from ? to : i));
    this.used.add(to);
  }

  serialize(metadata: Record<string, string>, opset = 17): Uint8Array {
    return onnx.ModelProto.encode(this.model(metadata, opset, this.initializers)).finish();
  }

  /**
   * The graph with every initializer of at least `minBytes` moved to one external data file
   * (ONNX external data: location/offset/length per tensor). onnxruntime-web then copies each
   * tensor once into WASM memory instead of parsing a protobuf that holds them all, which is what
   * lets a larger model fit an isolate's memory.
   */
  serializeWithExternalData(metadata: Record<string, string>, location: string, minBytes = 1024, opset = 17): { model: Uint8Array; data: Uint8Array } {
    const ALIGN = 64;
    let size = 0;
    const placed = this.initializers.map((t) => {
      const raw = t.rawData as Uint8Array;
      if (raw.byteLength < minBytes) return { tensor: t, offset: -1 };
      size = Math.ceil(size / ALIGN) * ALIGN;
      const offset = size;
      size += raw.byteLength;
      return { tensor: t, offset };
    });
    const data = new Uint8Array(size);
    const initializers = placed.map(({ tensor, offset }) => {
      if (offset < 0) return tensor;
      const raw = tensor.rawData as Uint8Array;
      data.set(raw, offset);
      return {
        ...tensor,
        rawData: undefined,
        dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
        externalData: [
          { key: 'location', value: location },
          { key: 'offset', value: String(offset) },
          { key: 'length', value: String(raw.byteLength) },
        ],
      };
    });
    return { model: onnx.ModelProto.encode(this.model(metadata, opset, initializers)).finish(), data };
  }

  private model(metadata: Record<string, string>, opset: number, initializers: onnxProto.onnx.ITensorProto[]): onnxProto.onnx.ModelProto {
    return onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'corom-edge',
      producerVersion: '0.1.0',
      opsetImport: [
        { domain: '', version: opset },
        { domain: MS_DOMAIN, version: 1 },
      ],
      graph: {
        name: 'corom_bert_encoder',
        node: this.nodes,
        initializer: initializers,
        input: this.inputs,
        output: this.outputs,
      },
      metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
    });
  }
}

function valueInfo(name: string, type: TensorTypeCode, dims: (number | string)[]): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: type,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function attribute(name: string, v: AttributeValue): onnxProto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'number') return { name, type: T.INT, i: v };
  if (typeof v === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: T.INTS, ints: v };
  if ('float' in v) return { name, type: T.FLOAT, f: v.float };
  return { name, type: T.FLOATS, floats: v.floats };
}
