/**
 * Every VJP rule against central finite differences in float64, through real onnxruntime sessions,
 * on random inputs with random shapes (broadcasting included).
 */
import assert from "node:assert/strict";
import { gradients, Graph, type Value } from "../../model/graph/mod.ts";
import { vjp } from "../../model/graph/vjp.ts";
import { ort } from "../../model/runtime.ts";
import { compile, seededRandom } from "./_helpers.ts";

interface Case {
  name: string;
  /** Input shapes, drawn from the case's RNG. */
  shapes: (r: () => number) => number[][];
  /** Builds the op under test from the float64 inputs. */
  build: (g: Graph, xs: Value[], r: () => number) => Value;
  /** Inputs drawn in [0.5, 2] instead of [-1, 1] (logs, roots, divisors). */
  positive?: boolean;
  /** float32 for ops onnxruntime lacks float64 kernels for (then a larger step and tolerance). */
  dtype?: "float32" | "float64";
  /** Finite-difference step and tolerance, for cases that pass through float32. */
  eps?: number;
  tol?: number;
}

const dim = (r: () => number, lo = 1, hi = 5) => lo + Math.floor(r() * (hi - lo + 1));

const cases: Case[] = [
  {
    name: "MatMul 2-D",
    shapes: (r) => [[dim(r), 4], [4, dim(r)]],
    build: (g, [a, b]) => g.matMul(a, b),
  },
  {
    name: "MatMul batched with a shared 2-D weight",
    shapes: (r) => [[2, dim(r), 3], [3, dim(r)]],
    build: (g, [a, b]) => g.matMul(a, b),
  },
  {
    name: "MatMul broadcast batch axes",
    shapes: (r) => [[1, 3, dim(r), 2], [2, 1, 2, dim(r)]],
    build: (g, [a, b]) => g.matMul(a, b),
  },
  {
    name: "Add broadcast",
    shapes: (r) => [[2, dim(r, 2), 4], [1, 4]],
    build: (g, [a, b]) => g.add(a, b),
  },
  {
    name: "Sub broadcast",
    shapes: (r) => [[4], [dim(r), 3, 4]],
    build: (g, [a, b]) => g.sub(a, b),
  },
  {
    name: "Mul broadcast",
    shapes: (r) => [[2, 1, dim(r)], [3, 1]],
    build: (g, [a, b]) => g.mul(a, b),
  },
  {
    name: "Div broadcast",
    shapes: (r) => [[dim(r), 3], [3]],
    build: (g, [a, b]) => g.div(a, b),
    positive: true,
  },
  {
    name: "Pow by an input",
    shapes: (r) => [[dim(r), 3], [1]],
    build: (g, [a, b]) => g.pow(a, b),
    positive: true,
  },
  {
    name: "Pow by a constant",
    shapes: (r) => [[dim(r), 3]],
    build: (g, [a]) => g.pow(a, g.constant(3, "float64")),
  },
  { name: "Neg", shapes: (r) => [[dim(r), 2]], build: (g, [a]) => g.neg(a) },
  { name: "Sqrt", shapes: (r) => [[dim(r), 3]], build: (g, [a]) => g.sqrt(a), positive: true },
  { name: "Exp", shapes: (r) => [[dim(r), 3]], build: (g, [a]) => g.exp(a) },
  { name: "Log", shapes: (r) => [[dim(r), 3]], build: (g, [a]) => g.log(a), positive: true },
  { name: "Tanh", shapes: (r) => [[dim(r), 3]], build: (g, [a]) => g.tanh(a) },
  { name: "Gelu tanh", shapes: (r) => [[dim(r), 5]], build: (g, [a]) => g.gelu(a, "tanh") },
  {
    name: "Gelu exact (no float64 kernel: checked in float32)",
    shapes: (r) => [[dim(r), 5]],
    build: (g, [a]) => g.gelu(a, "none"),
    dtype: "float32",
    eps: 1e-2,
    tol: 1e-3,
  },
  {
    name: "Reshape",
    shapes: (r) => [[2, dim(r), 6]],
    build: (g, [a]) => g.reshape(a, [-1, 3]),
  },
  {
    name: "Transpose",
    shapes: (r) => [[2, dim(r), 4]],
    build: (g, [a]) => g.transpose(a, [2, 0, 1]),
  },
  {
    name: "Slice with negative bounds",
    shapes: (r) => [[dim(r, 3, 6), 5]],
    build: (g, [a]) => g.slice(a, [1, -4], [-1, 4], [0, 1]),
  },
  {
    name: "Concat",
    shapes: (r) => [[2, dim(r)], [2, dim(r)], [2, 1]],
    build: (g, xs) => g.concat(xs, 1),
  },
  {
    name: "Split with an unused piece",
    shapes: (r) => [[dim(r), 7]],
    build: (g, [a]) => {
      const [p, , q] = g.split(a, [2, 3, 2], 1);
      return g.mul(p, q);
    },
  },
  { name: "Unsqueeze", shapes: (r) => [[dim(r), 3]], build: (g, [a]) => g.unsqueeze(a, [0, -1]) },
  { name: "Expand", shapes: () => [[3, 1]], build: (g, [a], r) => g.expand(a, [2, 3, dim(r, 2)]) },
  {
    name: "Gather rows with repeated int64 indices (embedding lookup)",
    shapes: (r) => [[dim(r, 3), 4]],
    build: (g, [a]) => g.gather(a, g.constant([0, 2, 2, 1, 0, 2], "int64", [2, 3])),
  },
  {
    name: "Gather with int32 indices",
    shapes: () => [[5, 3]],
    build: (g, [a]) => g.gather(a, g.constant([4, 4, 0], "int32")),
  },
  {
    name: "Where with a broadcast causal mask",
    shapes: () => [[2, 4, 4], [1]],
    build: (g, [a, b]) => {
      const mask = g.constant(
        [...Array(16).keys()].map((i) => Number(i % 4 <= Math.floor(i / 4))),
        "bool",
        [4, 4],
      );
      return g.where(mask, a, b);
    },
  },
  { name: "Softmax last axis", shapes: (r) => [[dim(r), 5]], build: (g, [a]) => g.softmax(a, -1) },
  {
    name: "Softmax middle axis",
    shapes: (r) => [[2, dim(r, 2), 3]],
    build: (g, [a]) => g.softmax(a, 1),
  },
  {
    name: "LayerNormalization",
    shapes: (r) => [[2, dim(r), 6], [6], [6]],
    build: (g, [x, s, b]) => g.layerNormalization(x, s, b, 1e-5).y,
  },
  {
    name: "ReduceMean keepdims",
    shapes: (r) => [[dim(r), 3, 4]],
    build: (g, [a]) => g.reduceMean(a, [0, 2], true),
  },
  {
    name: "ReduceSum without keepdims",
    shapes: (r) => [[dim(r), 3, 4]],
    build: (g, [a]) => g.reduceSum(a, [1], false),
  },
  {
    name: "Cast through float32",
    shapes: (r) => [[dim(r), 3]],
    build: (g, [a]) => g.cast(g.mul(g.cast(a, "float32"), g.constant(3, "float32")), "float64"),
    eps: 1e-2,
    tol: 1e-3,
  },
  {
    name: "Pad with zeros on both sides",
    shapes: (r) => [[dim(r), 3]],
    build: (g, [a]) => g.pad(a, [1, 0, 2, 3]),
  },
  {
    name: "Identity",
    shapes: (r) => [[dim(r), 2]],
    build: (g, [a]) => g.node("Identity", [a], [a])[0],
  },
  ...(["mean", "sum", "none"] as const).map((reduction): Case => ({
    name: `SoftmaxCrossEntropyLoss ${reduction}`,
    shapes: () => [[4, 7]],
    build: (g, [s]) =>
      g.softmaxCrossEntropyLoss(s, g.constant([6, 0, 3, 3], "int64"), reduction).loss,
  })),
];

for (const c of cases) {
  const dtype = c.dtype ?? "float64";
  const floats = (n: number, f: () => number) =>
    dtype === "float64" ? Float64Array.from({ length: n }, f) : Float32Array.from({ length: n }, f);
  Deno.test(`VJP of ${c.name} matches central finite differences`, async () => {
    const r = seededRandom(hash(c.name));
    const shapes = c.shapes(r);
    const g = new Graph();
    const xs = shapes.map((s, i) => g.input(`x${i}`, dtype, s));
    const y = c.build(g, xs, r);
    // A random projection makes every element of y matter to the scalar loss.
    const proj = floats(y.shape.reduce((p, d) => p * d, 1), () => r() * 2 - 1);
    const loss = g.reduceSum(g.mul(y, g.initializer("proj", dtype, y.shape, proj)), [
      ...y.shape.keys(),
    ], false);
    g.output(loss, "loss");
    gradients(g, loss, xs).forEach((gx, i) => g.output(gx, `grad_x${i}`));
    const run = await compile(g);

    const data = shapes.map((s) =>
      floats(s.reduce((p, d) => p * d, 1), () => (c.positive ? 0.5 + 1.5 * r() : r() * 2 - 1))
    );
    const feeds = () =>
      Object.fromEntries(data.map((d, i) => [`x${i}`, new ort.Tensor(dtype, d, shapes[i])]));
    const analytic = await run(feeds());
    const eps = c.eps ?? 1e-6, tol = c.tol ?? 1e-6;
    let worst = 0;
    for (let i = 0; i < data.length; i++) {
      const grad = analytic[`grad_x${i}`].data as Float64Array | Float32Array;
      const picks = data[i].length <= 24
        ? [...data[i].keys()]
        : [...Array(24)].map(() => Math.floor(r() * data[i].length));
      for (const k of picks) {
        const orig = data[i][k];
        data[i][k] = orig + eps;
        const up = Number((await run(feeds())).loss.data[0]);
        data[i][k] = orig - eps;
        const down = Number((await run(feeds())).loss.data[0]);
        data[i][k] = orig;
        const numeric = (up - down) / (2 * eps);
        const err = Math.abs(numeric - grad[k]) / Math.max(1, Math.abs(numeric));
        worst = Math.max(worst, err);
        assert.ok(
          err < tol,
          `${c.name}: d loss/d x${i}[${k}] analytic ${grad[k]} vs numeric ${numeric}`,
        );
      }
    }
    console.log(`${c.name}: max relative error ${worst.toExponential(2)}`);
  });
}

Deno.test("every op with a VJP rule has a test above", () => {
  const tested = new Set(cases.map((c) => c.name.split(" ")[0]));
  const untested = [...vjp.keys()].filter((op) => !tested.has(op));
  assert.deepEqual(untested, [], `VJP rules without a test: ${untested.join(", ")}`);
});

Deno.test("gradients refuses an op without a rule, naming it", () => {
  const g = new Graph();
  const x = g.input("x", "float32", [2]);
  const [y] = g.node("Sin", [x], [x]);
  assert.throws(
    () => gradients(g, g.reduceSum(y, [0], false), [x]),
    /no gradient rule for op "Sin"/,
  );
});

Deno.test("gradients of a parameter the loss ignores are zeros", async () => {
  const g = new Graph();
  const x = g.input("x", "float64", [3]);
  const unused = g.input("unused", "float64", [2, 2]);
  const loss = g.reduceSum(g.mul(x, x), [0], false);
  g.output(loss, "loss");
  const [, gu] = gradients(g, loss, [x, unused]);
  g.output(gu, "g_unused");
  const out = await (await compile(g))({
    x: new ort.Tensor("float64", new Float64Array([1, 2, 3]), [3]),
    unused: new ort.Tensor("float64", new Float64Array(4), [2, 2]),
  });
  assert.deepEqual(Array.from(out.g_unused.data as Float64Array), [0, 0, 0, 0]);
});

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}
