/** Turns a finished graph into the plain `ModelProto` object that onnx_proto.ts encodes. */
import { type DType, onnxTypeCode } from "./dtype.ts";
import type { Attr, GraphParts, ModelOptions, Node, TensorData, Value } from "./types.ts";
import type { OnnxMessage } from "./onnx_proto.ts";

const attrType = { f: 1, i: 2, s: 3, floats: 6, ints: 7 } as const;

/** The model as a plain object; nodes that reach no output are pruned unless asked not to. */
export function toModelProto(g: GraphParts, options: ModelOptions): OnnxMessage {
  const nodes = options.keepDeadNodes ? g.nodes : liveNodes(g);
  const used = new Set(nodes.flatMap((n) => n.inputs.map((v) => v?.name)));
  for (const o of g.outputs) used.add(o.name);
  return {
    ir_version: 9,
    producer_name: "denoformer",
    opset_import: [{ domain: "", version: options.opset ?? 20 }, {
      domain: "com.microsoft",
      version: 1,
    }],
    graph: {
      name: "denoformer",
      node: nodes.map(nodeProto),
      initializer: g.initializers.filter((i) => used.has(i.value.name)).map((i) =>
        tensorProto(i.value, i.data)
      ),
      input: g.inputs.map((v) => valueInfo(v, g.symbolicAxes.get(v.name))),
      output: g.outputs.map((v) => valueInfo(v, g.symbolicAxes.get(v.name))),
    },
  };
}

/** Nodes on a path to an output, in their original (topological) order. */
function liveNodes(g: GraphParts): Node[] {
  const needed = new Set(g.outputs.map((v) => v.name));
  const keep: boolean[] = new Array(g.nodes.length).fill(false);
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i];
    if (!n.outputs.some((o) => needed.has(o.name))) continue;
    keep[i] = true;
    for (const v of n.inputs) if (v) needed.add(v.name);
  }
  return g.nodes.filter((_, i) => keep[i]);
}

function nodeProto(n: Node, index: number): OnnxMessage {
  return {
    name: `${n.opType}_${index}`,
    op_type: n.opType,
    domain: n.domain,
    input: n.inputs.map((v) => v?.name ?? ""),
    output: n.outputs.map((v) => v.name),
    attribute: Object.entries(n.attrs).map(([name, a]) => attrProto(name, a)),
  };
}

function attrProto(name: string, a: Attr): OnnxMessage {
  const [key, value] = Object.entries(a)[0] as [keyof typeof attrType, unknown];
  const v = key === "s" ? new TextEncoder().encode(value as string) : value;
  return { name, type: attrType[key], [key]: v };
}

function valueInfo(v: Value, symbolic: Readonly<Record<number, string>> = {}): OnnxMessage {
  return {
    name: v.name,
    type: {
      tensor_type: {
        elem_type: onnxTypeCode[v.dtype],
        shape: {
          dim: v.shape.map((d, i) => i in symbolic ? { dim_param: symbolic[i] } : { dim_value: d }),
        },
      },
    },
  };
}

function tensorProto(v: Value, data: TensorData): OnnxMessage {
  return {
    name: v.name,
    dims: v.shape,
    data_type: onnxTypeCode[v.dtype as DType],
    raw_data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  };
}
