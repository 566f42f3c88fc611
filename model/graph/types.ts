/**
 * What a graph is made of, apart from the builder that makes it: values, nodes, initializers and
 * the parts the ONNX emitter reads. The builder (graph.ts) and the emitter (emit.ts) both depend on
 * these, not on each other's modules in a circle.
 */
import type { DType } from "./dtype.ts";

/** A tensor in the graph: its unique name, element type and static shape. */
export interface Value {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
}

/** Typed array holding an initializer's elements (float16/bfloat16 as raw Uint16 bits). */
export type TensorData =
  | Float32Array
  | Float64Array
  | Uint16Array
  | BigInt64Array
  | Int32Array
  | Uint8Array;

/** An ONNX attribute value; the key says its type. */
export type Attr =
  | { i: number }
  | { f: number }
  | { s: string }
  | { ints: readonly number[] }
  | { floats: readonly number[] };

/** One node: op, operands (null for an omitted optional input), results and attributes. */
export interface Node {
  readonly opType: string;
  readonly domain: string;
  readonly inputs: readonly (Value | null)[];
  readonly outputs: readonly Value[];
  readonly attrs: Readonly<Record<string, Attr>>;
}

/** A constant tensor stored in the model. */
export interface Initializer {
  readonly value: Value;
  readonly data: TensorData;
}

/** Options for `Graph.toModel`. */
export interface ModelOptions {
  /** Default-domain opset; 20 is the first with Gelu. */
  opset?: number;
  /** Keep nodes whose results reach no output (off: they are pruned). */
  keepDeadNodes?: boolean;
}

/** What emit.ts turns into a `ModelProto`: the finished graph's lists. */
export interface GraphParts {
  readonly nodes: readonly Node[];
  readonly inputs: readonly Value[];
  readonly outputs: readonly Value[];
  readonly initializers: readonly Initializer[];
  /** Inputs and outputs with axes of varying size: axis → `dim_param` name. */
  readonly symbolicAxes: ReadonlyMap<string, Readonly<Record<number, string>>>;
}
