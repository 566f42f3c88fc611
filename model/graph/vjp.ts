/**
 * Vector-Jacobian rules, one per op type: given the node and the gradients of its results, each
 * returns one gradient per input (`null` where none flows), built with the same graph builder.
 * Every rule is checked against central finite differences in tests/model/autodiff_test.ts.
 */
import type { Graph } from "./graph.ts";
import type { Node, Value } from "./types.ts";
import { sliceBounds } from "./shape.ts";

/** A rule: `(graph, node, gradient of each result or null) → gradient of each input or null`. */
export type VjpRule = (f: Graph, node: Node, gys: readonly (Value | null)[]) => (Value | null)[];

export const vjp = new Map<string, VjpRule>();

/** Sums `grad` over the axes that broadcasting added or stretched, back to `shape`. */
export function unbroadcast(f: Graph, grad: Value, shape: readonly number[]): Value {
  const lead = grad.shape.length - shape.length;
  const axes: number[] = [];
  grad.shape.forEach((d, i) => {
    if (i < lead || (shape[i - lead] === 1 && d !== 1)) axes.push(i);
  });
  const summed = axes.length ? f.reduceSum(grad, axes, true) : grad;
  return f.reshape(summed, shape);
}

const scalar = (f: Graph, v: number, like: Value) => f.constant(v, like.dtype);
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

// ---- elementwise: y = a ∘ b with broadcasting ----------------------------------------------

vjp.set(
  "Add",
  (f, { inputs: [a, b] }, [gy]) => [unbroadcast(f, gy!, a!.shape), unbroadcast(f, gy!, b!.shape)],
);

vjp.set(
  "Sub",
  (
    f,
    { inputs: [a, b] },
    [gy],
  ) => [unbroadcast(f, gy!, a!.shape), unbroadcast(f, f.neg(gy!), b!.shape)],
);

vjp.set("Mul", (f, { inputs: [a, b] }, [gy]) => [
  unbroadcast(f, f.mul(gy!, b!), a!.shape),
  unbroadcast(f, f.mul(gy!, a!), b!.shape),
]);

// y = a / b: dy/da = 1/b, dy/db = −y/b
vjp.set("Div", (f, { inputs: [a, b], outputs: [y] }, [gy]) => {
  const ga = f.div(gy!, b!);
  return [unbroadcast(f, ga, a!.shape), unbroadcast(f, f.neg(f.mul(ga, y)), b!.shape)];
});

// y = aᵖ: dy/da = p·aᵖ⁻¹, dy/dp = y·ln a
vjp.set("Pow", (f, { inputs: [a, p], outputs: [y] }, [gy]) => [
  unbroadcast(f, f.mul(gy!, f.mul(p!, f.pow(a!, f.sub(p!, scalar(f, 1, p!))))), a!.shape),
  unbroadcast(f, f.mul(gy!, f.mul(y, f.log(a!))), p!.shape),
]);

vjp.set("Neg", (f, _n, [gy]) => [f.neg(gy!)]);

// y = √x: dy/dx = 1/(2y)
vjp.set("Sqrt", (f, { outputs: [y] }, [gy]) => [f.div(f.mul(gy!, scalar(f, 0.5, y)), y)]);

vjp.set("Exp", (f, { outputs: [y] }, [gy]) => [f.mul(gy!, y)]);

vjp.set("Log", (f, { inputs: [x] }, [gy]) => [f.div(gy!, x!)]);

// y = tanh x: dy/dx = 1 − y²
vjp.set("Tanh", (f, { outputs: [y] }, [gy]) => [f.mul(gy!, f.sub(scalar(f, 1, y), f.mul(y, y)))]);

// tanh form: y = ½x(1+t), t = tanh(u), u = √(2/π)(x + 0.044715x³)
//   dy/dx = ½(1+t) + ½x(1−t²)·√(2/π)(1 + 3·0.044715x²)
// exact form: dy/dx = Φ(x) + x·φ(x)
vjp.set("Gelu", (f, { inputs: [x], attrs }, [gy]) => {
  const c = (v: number) => scalar(f, v, x!);
  const x2 = f.mul(x!, x!);
  let dydx: Value;
  if ("s" in attrs.approximate && attrs.approximate.s === "tanh") {
    const k = Math.sqrt(2 / Math.PI);
    const u = f.mul(c(k), f.add(x!, f.mul(c(0.044715), f.mul(x2, x!))));
    const t = f.tanh(u);
    const du = f.mul(c(k), f.add(c(1), f.mul(c(3 * 0.044715), x2)));
    const sech2 = f.sub(c(1), f.mul(t, t));
    dydx = f.add(f.mul(c(0.5), f.add(c(1), t)), f.mul(f.mul(c(0.5), x!), f.mul(sech2, du)));
  } else {
    // onnxruntime has Erf for float32 only.
    const z = f.cast(f.mul(x!, c(Math.SQRT1_2)), "float32");
    const erf = f.cast(f.node("Erf", [z], [z])[0], x!.dtype);
    const cdf = f.mul(c(0.5), f.add(c(1), erf));
    const pdf = f.mul(c(1 / Math.sqrt(2 * Math.PI)), f.exp(f.mul(c(-0.5), x2)));
    dydx = f.add(cdf, f.mul(x!, pdf));
  }
  return [f.mul(gy!, dydx)];
});

vjp.set("Where", (f, { inputs: [cond, a, b] }, [gy]) => {
  const zero = scalar(f, 0, gy!);
  return [
    null,
    unbroadcast(f, f.where(cond!, gy!, zero), a!.shape),
    unbroadcast(f, f.where(cond!, zero, gy!), b!.shape),
  ];
});

vjp.set("Cast", (f, { inputs: [x] }, [gy]) => [f.cast(gy!, x!.dtype)]);

vjp.set("Identity", (_f, _n, [gy]) => [gy]);

// ---- linear algebra -------------------------------------------------------------------------

// y = a·b over the last two axes: da = gy·bᵀ, db = aᵀ·gy (summed over broadcast batch axes)
vjp.set("MatMul", (f, { inputs: [a, b] }, [gy]) => {
  const ga = unbroadcast(f, f.matMul(gy!, f.transposeLast2(b!)), a!.shape);
  let gb: Value;
  if (b!.shape.length === 2 && a!.shape.length > 2) {
    // A shared weight: fold the batch axes into rows, one large product instead of a batch of small ones.
    const k = a!.shape[a!.shape.length - 1], n = b!.shape[1];
    gb = f.matMul(f.transpose(f.reshape(a!, [-1, k]), [1, 0]), f.reshape(gy!, [-1, n]));
  } else {
    gb = unbroadcast(f, f.matMul(f.transposeLast2(a!), gy!), b!.shape);
  }
  return [ga, gb];
});

// ---- shape ----------------------------------------------------------------------------------

vjp.set("Reshape", (f, { inputs: [x] }, [gy]) => [f.reshape(gy!, x!.shape), null]);

vjp.set("Unsqueeze", (f, { inputs: [x] }, [gy]) => [f.reshape(gy!, x!.shape), null]);

vjp.set("Expand", (f, { inputs: [x] }, [gy]) => [unbroadcast(f, gy!, x!.shape), null]);

vjp.set("Transpose", (f, { attrs }, [gy]) => {
  const perm = "ints" in attrs.perm ? attrs.perm.ints : [];
  const inverse = perm.map((_, i) => perm.indexOf(i));
  return [f.transpose(gy!, inverse)];
});

// Slice (step 1) puts gy back in place with zero padding around it.
vjp.set("Slice", (f, { inputs: [x, starts, ends, axes] }, [gy]) => {
  const r = x!.shape.length;
  const pads = new Array(2 * r).fill(0);
  const bounds = sliceBounds(x!.shape, f.valuesOf(starts!), f.valuesOf(ends!), f.valuesOf(axes!));
  for (const { axis, start, end } of bounds) {
    pads[axis] = start;
    pads[axis + r] = x!.shape[axis] - end;
  }
  return [f.pad(gy!, pads), null, null, null];
});

vjp.set("Pad", (f, { inputs: [x, pads] }, [gy]) => {
  const p = f.valuesOf(pads!), r = x!.shape.length;
  const axes = range(r);
  return [f.slice(gy!, axes.map((a) => p[a]), axes.map((a) => p[a] + x!.shape[a]), axes), null];
});

vjp.set("Concat", (f, { inputs, attrs }, [gy]) => {
  const axis = "i" in attrs.axis ? attrs.axis.i : 0;
  let at = 0;
  return inputs.map((x) => {
    const part = f.slice(gy!, [at], [at + x!.shape[axis]], [axis]);
    at += x!.shape[axis];
    return part;
  });
});

vjp.set("Split", (f, { outputs, attrs }, gys) => {
  const axis = "i" in attrs.axis ? attrs.axis.i : 0;
  const parts = outputs.map((o, i) => gys[i] ?? f.expand(scalar(f, 0, o), o.shape));
  return [f.concat(parts, axis), null];
});

// The embedding lookup's gradient scatters rows back, adding where an index repeats.
vjp.set("Gather", (f, { inputs: [data, indices], attrs }, [gy]) => {
  if (!("i" in attrs.axis) || attrs.axis.i !== 0) {
    throw new Error(`gradients: Gather is differentiable along axis 0 only`);
  }
  const zeros = f.expand(scalar(f, 0, data!), data!.shape);
  const idx = f.unsqueeze(f.cast(indices!, "int64"), [-1]);
  return [f.scatterND(zeros, idx, gy!, "add"), null];
});

// ---- reductions and normalisation -----------------------------------------------------------

vjp.set("ReduceSum", (f, node, [gy]) => [spreadReduced(f, node, gy!), null]);

vjp.set("ReduceMean", (f, node, [gy]) => {
  const [x] = node.inputs, [y] = node.outputs;
  const count = x!.shape.reduce((p, d) => p * d, 1) / y.shape.reduce((p, d) => p * d, 1);
  return [f.div(spreadReduced(f, node, gy!), scalar(f, count, gy!)), null];
});

// y = softmax(x): dx = y·(gy − Σ gy·y)
vjp.set("Softmax", (f, { outputs: [y], attrs }, [gy]) => {
  const axis = "i" in attrs.axis ? attrs.axis.i : -1;
  return [f.mul(y, f.sub(gy!, f.reduceSum(f.mul(gy!, y), [axis])))];
});

// With x̂ = (x − μ)·σ⁻¹ and ĝ = gy·scale: dx = σ⁻¹·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂))
vjp.set("LayerNormalization", (f, { inputs: [x, scale], outputs: [, mean, invStd] }, [gy]) => {
  const mu = f.cast(mean, x!.dtype), rstd = f.cast(invStd, x!.dtype);
  const xhat = f.mul(f.sub(x!, mu), rstd);
  const ghat = f.mul(gy!, scale!);
  const gx = f.mul(
    rstd,
    f.sub(
      f.sub(ghat, f.reduceMean(ghat, [-1])),
      f.mul(xhat, f.reduceMean(f.mul(ghat, xhat), [-1])),
    ),
  );
  const lead = range(x!.shape.length - 1);
  return [gx, f.reduceSum(f.mul(gy!, xhat), lead, false), f.reduceSum(gy!, lead, false)];
});

// d loss / d scores = softmax(scores) − onehot(labels), scaled by the reduction.
vjp.set(
  "SoftmaxCrossEntropyLoss",
  (f, { inputs: [scores, labels], outputs: [loss, logProb], attrs }, [gy]) => {
    const [n, c] = scores!.shape;
    const classes = f.constant(range(c), "int64");
    const onehot = f.cast(f.equal(f.unsqueeze(labels!, [1]), classes), scores!.dtype);
    const d = f.sub(f.exp(logProb), onehot);
    const reduction = "s" in attrs.reduction ? attrs.reduction.s : "mean";
    if (reduction === "none") return [f.mul(d, f.unsqueeze(gy!, [1])), null];
    const g = reduction === "mean" ? f.div(gy!, scalar(f, n, loss)) : gy!;
    return [f.mul(d, g), null];
  },
);

/** Broadcasts a reduction's gradient back over the reduced axes. */
function spreadReduced(f: Graph, { inputs: [x, axes], attrs }: Node, gy: Value): Value {
  const reduced = f.valuesOf(axes!);
  const keep = "i" in attrs.keepdims ? attrs.keepdims.i : 1;
  const kept = keep ? gy : f.reshape(gy, x!.shape.map((d, i) => (reduced.includes(i) ? 1 : d)));
  return f.expand(kept, x!.shape);
}
