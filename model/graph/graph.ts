/**
 * The graph builder: typed values with static shapes, one method per ONNX op (named after the op in
 * lowerCamel), each adding one node and checking shapes and dtypes as the graph is built.
 *
 * @example
 * ```ts
 * const g = new Graph();
 * const x = g.input("x", "float32", [4, 3]);
 * const w = g.input("w", "float32", [3, 2]);
 * g.output(g.tanh(g.matMul(x, w)), "y");
 * const bytes = g.toModel();
 * ```
 */
import { type DType, isFloat, numel, onnxTypeCode } from "./dtype.ts";
import { encodeModel } from "./onnx_proto.ts";
import { broadcastShapes, normAxis, sameShape, showShape, sliceBounds } from "./shape.ts";
import { toModelProto } from "./emit.ts";
import type {
  Attr,
  GraphParts,
  Initializer,
  ModelOptions,
  Node,
  TensorData,
  Value,
} from "./types.ts";

export class Graph implements GraphParts {
  readonly nodes: Node[] = [];
  readonly inputs: Value[] = [];
  readonly outputs: Value[] = [];
  readonly initializers: Initializer[] = [];
  /**
   * Inputs and outputs with axes of varying size: axis → `dim_param` name (see
   * {@linkcode Graph.input}).
   */
  readonly symbolicAxes = new Map<string, Readonly<Record<number, string>>>();
  #names = new Set<string>();
  #constants = new Map<string, Value>();
  #counter = 0;

  // ---- graph structure -------------------------------------------------------------------

  /**
   * Declares a graph input. `symbolic` names axes whose size varies from run to run (ONNX
   * `dim_param`); for those, `shape` holds a representative size that the builder checks shapes
   * with, so the ops on such an axis must not bake its size in (no Split sizes, Reshape targets or
   * non-negative Slice ends along it).
   */
  input(
    name: string,
    dtype: DType,
    shape: readonly number[],
    symbolic: Readonly<Record<number, string>> = {},
  ): Value {
    const v = this.#value(name, dtype, shape, true);
    this.inputs.push(v);
    if (Object.keys(symbolic).length) this.symbolicAxes.set(name, symbolic);
    return v;
  }

  /** Stores a constant tensor under `name`. */
  initializer(name: string, dtype: DType, shape: readonly number[], data: TensorData): Value {
    if (data.length !== numel(shape)) {
      throw new RangeError(
        `Initializer "${name}": ${data.length} elements do not fill shape ${showShape(shape)}`,
      );
    }
    const v = this.#value(name, dtype, shape, true);
    this.initializers.push({ value: v, data });
    return v;
  }

  /** A small constant, deduplicated by dtype, shape and values. */
  constant(values: number | readonly number[], dtype: DType, shape?: readonly number[]): Value {
    const list = typeof values === "number" ? [values] : values;
    const dims = shape ?? (typeof values === "number" ? [] : [list.length]);
    const key = `${dtype}|${dims.join(",")}|${list.join(",")}`;
    const hit = this.#constants.get(key);
    if (hit) return hit;
    const v = this.initializer(this.#fresh("const"), dtype, dims, typedArray(dtype, list));
    this.#constants.set(key, v);
    return v;
  }

  /** The numbers held by a constant or initializer, for rules that need them (Slice bounds). */
  valuesOf(v: Value): number[] {
    const init = this.initializers.find((i) => i.value === v);
    if (!init) throw new Error(`Graph: "${v.name}" is not a constant`);
    return Array.from(init.data as ArrayLike<number | bigint>, Number);
  }

  /**
   * Marks `v` as a graph output, renamed to `name` through an Identity node when needed;
   * `symbolic` names its axes that vary from run to run, as for {@linkcode Graph.input}.
   */
  output(v: Value, name?: string, symbolic: Readonly<Record<number, string>> = {}): Value {
    const out = name && name !== v.name ? this.node("Identity", [v], [v], {}, "", name)[0] : v;
    this.outputs.push(out);
    if (Object.keys(symbolic).length) this.symbolicAxes.set(out.name, symbolic);
    return out;
  }

  /**
   * Adds one node whose results have the given dtypes and shapes. The op methods below call this;
   * use it directly only for ops that have no method.
   */
  node(
    opType: string,
    inputs: readonly (Value | null)[],
    results: readonly { dtype: DType; shape: readonly number[] }[],
    attrs: Record<string, Attr> = {},
    domain = "",
    firstName?: string,
  ): Value[] {
    const outputs = results.map((r, i) =>
      this.#value(
        i === 0 && firstName ? firstName : this.#fresh(opType),
        r.dtype,
        r.shape,
        i === 0 && !!firstName,
      )
    );
    this.nodes.push({ opType, domain, inputs, outputs, attrs });
    return outputs;
  }

  /** Serialises the graph as ONNX `ModelProto` bytes. */
  toModel(options: ModelOptions = {}): Uint8Array {
    return encodeModel(toModelProto(this, options));
  }

  // ---- elementwise ------------------------------------------------------------------------

  add(a: Value, b: Value): Value {
    return this.#binary("Add", a, b);
  }
  sub(a: Value, b: Value): Value {
    return this.#binary("Sub", a, b);
  }
  mul(a: Value, b: Value): Value {
    return this.#binary("Mul", a, b);
  }
  div(a: Value, b: Value): Value {
    return this.#binary("Div", a, b);
  }
  pow(a: Value, b: Value): Value {
    return this.#binary("Pow", a, b);
  }
  min(a: Value, b: Value): Value {
    return this.#binary("Min", a, b);
  }
  neg(x: Value): Value {
    return this.#unary("Neg", x);
  }
  sqrt(x: Value): Value {
    return this.#unary("Sqrt", x);
  }
  exp(x: Value): Value {
    return this.#unary("Exp", x);
  }
  log(x: Value): Value {
    return this.#unary("Log", x);
  }
  tanh(x: Value): Value {
    return this.#unary("Tanh", x);
  }
  /** GELU; `approximate: "tanh"` is GPT-2's. */
  gelu(x: Value, approximate: "tanh" | "none" = "tanh"): Value {
    this.#float("Gelu", x);
    return this.node("Gelu", [x], [x], { approximate: { s: approximate } })[0];
  }

  equal(a: Value, b: Value): Value {
    this.#sameDtype("Equal", a, b);
    return this.node("Equal", [a, b], [{
      dtype: "bool",
      shape: broadcastShapes("Equal", a.shape, b.shape),
    }])[0];
  }

  /** `cond ? a : b`, broadcasting all three. */
  where(cond: Value, a: Value, b: Value): Value {
    if (cond.dtype !== "bool") {
      throw new TypeError(`Where: condition must be bool, got ${cond.dtype}`);
    }
    this.#sameDtype("Where", a, b);
    const shape = broadcastShapes("Where", cond.shape, a.shape, b.shape);
    return this.node("Where", [cond, a, b], [{ dtype: a.dtype, shape }])[0];
  }

  cast(x: Value, to: DType): Value {
    if (x.dtype === to) return x;
    return this.node("Cast", [x], [{ dtype: to, shape: x.shape }], {
      to: { i: onnxTypeCode[to] },
    })[0];
  }

  // ---- linear algebra ---------------------------------------------------------------------

  /** Matrix product over the last two axes, broadcasting the leading (batch) axes. */
  matMul(a: Value, b: Value): Value {
    this.#sameDtype("MatMul", a, b);
    if (a.shape.length < 2 || b.shape.length < 2) {
      throw new TypeError(
        `MatMul: operands need rank 2 or more, got ${showShape(a.shape)} and ${showShape(b.shape)}`,
      );
    }
    const [m, k] = a.shape.slice(-2), [k2, n] = b.shape.slice(-2);
    if (k !== k2) {
      throw new TypeError(
        `MatMul: inner dimensions differ: ${showShape(a.shape)} × ${showShape(b.shape)}`,
      );
    }
    const batch = broadcastShapes("MatMul", a.shape.slice(0, -2), b.shape.slice(0, -2));
    return this.node("MatMul", [a, b], [{ dtype: a.dtype, shape: [...batch, m, n] }])[0];
  }

  // ---- shape ------------------------------------------------------------------------------

  /**
   * Reshape to `shape`; one entry may be -1, and a 0 keeps the input's size on that axis (ONNX's
   * rule), which is how a symbolic axis passes through without its size baked in.
   */
  reshape(x: Value, shape: readonly number[]): Value {
    const sizes = shape.map((d, i) => (d === 0 ? x.shape[i] : d));
    const known = sizes.filter((d) => d !== -1);
    const total = numel(x.shape);
    const out = sizes.map((d) => (d === -1 ? total / Math.max(1, numel(known)) : d));
    if (
      shape.filter((d) => d === -1).length > 1 || numel(out) !== total ||
      !out.every(Number.isInteger) || out.some((d) => d === undefined)
    ) {
      throw new TypeError(`Reshape: cannot reshape ${showShape(x.shape)} to ${showShape(shape)}`);
    }
    if (sameShape(out, x.shape)) return x;
    return this.node("Reshape", [x, this.constant(shape, "int64")], [{
      dtype: x.dtype,
      shape: out,
    }])[0];
  }

  transpose(x: Value, perm: readonly number[]): Value {
    const sorted = [...perm].sort((p, q) => p - q);
    if (perm.length !== x.shape.length || sorted.some((p, i) => p !== i)) {
      throw new TypeError(`Transpose: perm [${perm}] does not fit ${showShape(x.shape)}`);
    }
    const shape = perm.map((p) => x.shape[p]);
    return this.node("Transpose", [x], [{ dtype: x.dtype, shape }], { perm: { ints: perm } })[0];
  }

  /** Swaps the last two axes. */
  transposeLast2(x: Value): Value {
    const r = x.shape.length;
    const perm = [...Array(r).keys()];
    [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
    return this.transpose(x, perm);
  }

  unsqueeze(x: Value, axes: readonly number[]): Value {
    const rank = x.shape.length + axes.length;
    const norm = axes.map((a) => normAxis("Unsqueeze", a, rank));
    const shape: number[] = [];
    for (let i = 0, j = 0; i < rank; i++) shape.push(norm.includes(i) ? 1 : x.shape[j++]);
    return this.node("Unsqueeze", [x, this.constant(norm, "int64")], [{
      dtype: x.dtype,
      shape,
    }])[0];
  }

  /** Broadcasts `x` to `shape` (which must be x's broadcast with it). */
  expand(x: Value, shape: readonly number[]): Value {
    const out = broadcastShapes("Expand", x.shape, shape);
    if (sameShape(out, x.shape)) return x;
    return this.node("Expand", [x, this.constant(shape, "int64")], [{
      dtype: x.dtype,
      shape: out,
    }])[0];
  }

  /**
   * Slice with step 1 along `axes` (ONNX clamping of negative and out-of-range bounds). The bounds
   * go into the model as written, so a negative one stays relative to the end of an axis whose size
   * varies (see {@linkcode Graph.input}); the shape here is worked out for the representative size.
   */
  slice(
    x: Value,
    starts: readonly number[],
    ends: readonly number[],
    axes: readonly number[],
  ): Value {
    const shape = [...x.shape];
    for (const { axis, start, end } of sliceBounds(x.shape, starts, ends, axes)) {
      shape[axis] = end - start;
    }
    return this.node(
      "Slice",
      [
        x,
        this.constant(starts, "int64"),
        this.constant(ends, "int64"),
        this.constant(axes.map((a) => normAxis("Slice", a, x.shape.length)), "int64"),
      ],
      [{ dtype: x.dtype, shape }],
    )[0];
  }

  /** Zero padding: `pads` is ONNX's [begin_0, …, begin_n, end_0, …, end_n]. */
  pad(x: Value, pads: readonly number[]): Value {
    const r = x.shape.length;
    if (pads.length !== 2 * r || pads.some((p) => p < 0)) {
      throw new TypeError(`Pad: pads [${pads}] do not fit ${showShape(x.shape)}`);
    }
    const shape = x.shape.map((d, i) => d + pads[i] + pads[i + r]);
    return this.node("Pad", [x, this.constant(pads, "int64")], [{ dtype: x.dtype, shape }])[0];
  }

  concat(xs: readonly Value[], axis: number): Value {
    if (xs.length === 0) throw new TypeError("Concat: needs at least one input");
    const a = normAxis("Concat", axis, xs[0].shape.length);
    const shape = [...xs[0].shape];
    shape[a] = 0;
    for (const x of xs) {
      this.#sameDtype("Concat", xs[0], x);
      const ok = x.shape.length === shape.length &&
        x.shape.every((d, i) => i === a || d === xs[0].shape[i]);
      if (!ok) {
        throw new TypeError(
          `Concat: shapes ${xs.map((v) => showShape(v.shape)).join(", ")} differ off axis ${axis}`,
        );
      }
      shape[a] += x.shape[a];
    }
    return this.node("Concat", xs, [{ dtype: xs[0].dtype, shape }], { axis: { i: a } })[0];
  }

  /** Splits along `axis` into pieces of the given sizes. */
  split(x: Value, sizes: readonly number[], axis: number): Value[] {
    const a = normAxis("Split", axis, x.shape.length);
    if (sizes.reduce((s, v) => s + v, 0) !== x.shape[a]) {
      throw new TypeError(
        `Split: sizes [${sizes}] do not add up to axis ${axis} of ${showShape(x.shape)}`,
      );
    }
    const results = sizes.map((n) => ({
      dtype: x.dtype,
      shape: x.shape.map((d, i) => (i === a ? n : d)),
    }));
    return this.node("Split", [x, this.constant(sizes, "int64")], results, { axis: { i: a } });
  }

  /** Gathers slices of `data` along `axis` (axis 0: the embedding lookup). */
  gather(data: Value, indices: Value, axis = 0): Value {
    if (indices.dtype !== "int64" && indices.dtype !== "int32") {
      throw new TypeError(`Gather: indices must be int64 or int32, got ${indices.dtype}`);
    }
    const a = normAxis("Gather", axis, data.shape.length);
    const shape = [...data.shape.slice(0, a), ...indices.shape, ...data.shape.slice(a + 1)];
    return this.node("Gather", [data, indices], [{ dtype: data.dtype, shape }], {
      axis: { i: a },
    })[0];
  }

  /** Scatters `updates` into `data` at `indices` (last axis indexes data); reduction "add" accumulates. */
  scatterND(
    data: Value,
    indices: Value,
    updates: Value,
    reduction: "none" | "add" = "none",
  ): Value {
    const q = indices.shape.length, k = indices.shape[q - 1];
    const want = [...indices.shape.slice(0, -1), ...data.shape.slice(k)];
    if (indices.dtype !== "int64" || !sameShape(want, updates.shape)) {
      throw new TypeError(
        `ScatterND: data ${showShape(data.shape)}, indices ${
          showShape(indices.shape)
        } need updates ${showShape(want)}, got ${showShape(updates.shape)}`,
      );
    }
    return this.node("ScatterND", [data, indices, updates], [data], {
      reduction: { s: reduction },
    })[0];
  }

  // ---- reductions and normalisation -------------------------------------------------------

  reduceSum(x: Value, axes: readonly number[], keepdims = true): Value {
    return this.#reduce("ReduceSum", x, axes, keepdims);
  }
  reduceMean(x: Value, axes: readonly number[], keepdims = true): Value {
    return this.#reduce("ReduceMean", x, axes, keepdims);
  }
  /** Has no gradient rule: for values the backward pass does not flow through (a softmax's shift). */
  reduceMax(x: Value, axes: readonly number[], keepdims = true): Value {
    return this.#reduce("ReduceMax", x, axes, keepdims);
  }

  softmax(x: Value, axis = -1): Value {
    this.#float("Softmax", x);
    return this.node("Softmax", [x], [x], {
      axis: { i: normAxis("Softmax", axis, x.shape.length) },
    })[0];
  }

  /**
   * LayerNormalization over the last axis. Returns the result and the saved mean and inverse
   * standard deviation (in float32, or float64 for float64 input), which the backward pass reuses.
   */
  layerNormalization(
    x: Value,
    scale: Value,
    bias: Value,
    epsilon = 1e-5,
  ): { y: Value; mean: Value; invStdDev: Value } {
    this.#float("LayerNormalization", x);
    const c = x.shape[x.shape.length - 1];
    for (const p of [scale, bias]) {
      this.#sameDtype("LayerNormalization", x, p);
      if (!sameShape(p.shape, [c])) {
        throw new TypeError(
          `LayerNormalization: scale and bias must be [${c}] for input ${showShape(x.shape)}, got ${
            showShape(p.shape)
          }`,
        );
      }
    }
    const stash: DType = "float32";
    const statShape = [...x.shape.slice(0, -1), 1];
    const [y, mean, invStdDev] = this.node(
      "LayerNormalization",
      [x, scale, bias],
      [x, { dtype: stash, shape: statShape }, { dtype: stash, shape: statShape }],
      { axis: { i: -1 }, epsilon: { f: epsilon }, stash_type: { i: onnxTypeCode[stash] } },
    );
    return { y, mean, invStdDev };
  }

  /**
   * Softmax cross-entropy of `scores` [N, C] against integer `labels` [N]; also returns the
   * log-probabilities, which the backward pass reuses.
   */
  softmaxCrossEntropyLoss(
    scores: Value,
    labels: Value,
    reduction: "mean" | "sum" | "none" = "mean",
  ): { loss: Value; logProb: Value } {
    this.#float("SoftmaxCrossEntropyLoss", scores);
    if (
      scores.shape.length !== 2 || !sameShape(labels.shape, [scores.shape[0]]) ||
      labels.dtype !== "int64"
    ) {
      throw new TypeError(
        `SoftmaxCrossEntropyLoss: needs scores [N,C] and int64 labels [N], got ${
          showShape(scores.shape)
        } and ${labels.dtype} ${showShape(labels.shape)}`,
      );
    }
    const lossShape = reduction === "none" ? [scores.shape[0]] : [];
    const [loss, logProb] = this.node(
      "SoftmaxCrossEntropyLoss",
      [scores, labels],
      [{ dtype: scores.dtype, shape: lossShape }, scores],
      { reduction: { s: reduction } },
    );
    return { loss, logProb };
  }

  // ---- internals --------------------------------------------------------------------------

  #value(name: string, dtype: DType, shape: readonly number[], userNamed: boolean): Value {
    if (this.#names.has(name)) {
      throw new Error(`Graph: the name "${name}" is already used${userNamed ? "" : " (internal)"}`);
    }
    if (!shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new TypeError(`Graph: "${name}" has an invalid shape ${showShape(shape)}`);
    }
    this.#names.add(name);
    return { name, dtype, shape: [...shape] };
  }

  #fresh(hint: string): string {
    let name: string;
    do name = `${hint}_${this.#counter++}`; while (this.#names.has(name));
    return name;
  }

  #binary(op: string, a: Value, b: Value): Value {
    this.#sameDtype(op, a, b);
    return this.node(op, [a, b], [{
      dtype: a.dtype,
      shape: broadcastShapes(op, a.shape, b.shape),
    }])[0];
  }

  #unary(op: string, x: Value): Value {
    this.#float(op, x);
    return this.node(op, [x], [x])[0];
  }

  #reduce(op: string, x: Value, axes: readonly number[], keepdims: boolean): Value {
    const norm = axes.map((a) => normAxis(op, a, x.shape.length));
    const shape = keepdims
      ? x.shape.map((d, i) => (norm.includes(i) ? 1 : d))
      : x.shape.filter((_, i) => !norm.includes(i));
    return this.node(op, [x, this.constant(norm, "int64")], [{ dtype: x.dtype, shape }], {
      keepdims: { i: keepdims ? 1 : 0 },
    })[0];
  }

  #sameDtype(op: string, a: Value, b: Value): void {
    if (a.dtype !== b.dtype) {
      throw new TypeError(
        `${op}: dtypes differ: "${a.name}" is ${a.dtype} ${
          showShape(a.shape)
        }, "${b.name}" is ${b.dtype} ${showShape(b.shape)}`,
      );
    }
  }

  #float(op: string, x: Value): void {
    if (!isFloat(x.dtype)) {
      throw new TypeError(`${op}: needs a floating-point input, got ${x.dtype}`);
    }
  }
}

/** Builds the typed array for a constant's values. */
export function typedArray(dtype: DType, values: readonly number[]): TensorData {
  switch (dtype) {
    case "float32":
      return Float32Array.from(values);
    case "float64":
      return Float64Array.from(values);
    case "float16":
      return new Uint16Array(Float16Array.from(values).buffer);
    case "bfloat16":
      return Uint16Array.from(values, (v) => bfloat16Bits(v));
    case "int64":
      return BigInt64Array.from(values, (v) => BigInt(v));
    case "int32":
      return Int32Array.from(values);
    case "uint8":
    case "bool":
      return Uint8Array.from(values);
  }
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** bfloat16 bits of `v`, rounded to nearest even. */
export function bfloat16Bits(v: number): number {
  f32[0] = v;
  const x = u32[0];
  if ((x & 0x7fffffff) > 0x7f800000) return (x >>> 16) | 0x40;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}
