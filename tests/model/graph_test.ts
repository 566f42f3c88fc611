import assert from "node:assert/strict";
import { decodeModel, Graph } from "../../model/graph/mod.ts";
import { ort } from "../../model/runtime.ts";
import { compile } from "./_helpers.ts";

Deno.test("a shape mismatch names the op and both shapes", () => {
  const g = new Graph();
  const a = g.input("a", "float32", [2, 3]);
  const b = g.input("b", "float32", [4, 5]);
  assert.throws(() => g.matMul(a, b), {
    message: "MatMul: inner dimensions differ: [2,3] × [4,5]",
  });
  assert.throws(() => g.add(a, b), { message: "Add: shapes [2,3] and [4,5] do not broadcast" });
});

Deno.test("a dtype mismatch names the op, the values and their dtypes", () => {
  const g = new Graph();
  const a = g.input("a", "float32", [2]);
  const b = g.input("b", "float16", [2]);
  assert.throws(
    () => g.mul(a, b),
    /Mul: dtypes differ: "a" is float32 \[2\], "b" is float16 \[2\]/,
  );
});

Deno.test("the emitted ModelProto decodes with the declared inputs, outputs and opset", () => {
  const g = new Graph();
  const x = g.input("x", "float32", [4, 3]);
  const w = g.initializer("w", "float32", [3, 2], new Float32Array(6).fill(0.5));
  g.output(g.tanh(g.matMul(x, w)), "y");
  g.tanh(x); // dead: reaches no output and must be pruned
  interface Decoded {
    opset_import: { version: number }[];
    graph: {
      input: { name: string }[];
      output: { name: string }[];
      node: { op_type: string }[];
      initializer: { dims: number[] }[];
    };
  }
  const model = decodeModel(g.toModel()) as unknown as Decoded;
  assert.equal(model.opset_import[0].version, 20);
  assert.deepEqual(model.graph.input.map((v) => v.name), ["x"]);
  assert.deepEqual(model.graph.output.map((v) => v.name), ["y"]);
  assert.deepEqual(model.graph.node.map((n) => n.op_type), ["MatMul", "Tanh", "Identity"]);
  assert.deepEqual(model.graph.initializer[0].dims, [3, 2]);
});

Deno.test("a symbolic axis runs at any size: Reshape keeps it with 0 and the output declares it", async () => {
  const g = new Graph();
  const x = g.input("x", "float32", [3, 2, 4], { 0: "batch" }); // built at 3, run at 5
  const y = g.reshape(g.transpose(g.reshape(x, [0, 2, 2, 2]), [0, 2, 1, 3]), [0, -1]);
  assert.deepEqual(y.shape, [3, 8]);
  assert.throws(() => g.reshape(x, [0, 0, 0, 8]), /Reshape: cannot reshape \[3,2,4\]/);
  g.output(y, "y", { 0: "batch" });
  interface Dim {
    dim_param?: string;
    dim_value?: number;
  }
  const decoded = decodeModel(g.toModel()) as unknown as {
    graph: { output: { type: { tensor_type: { shape: { dim: Dim[] } } } }[] };
  };
  const dims = decoded.graph.output[0].type.tensor_type.shape.dim;
  assert.equal(dims[0].dim_param, "batch");
  assert.equal(Number(dims[1].dim_value), 8);
  const data = Float32Array.from({ length: 5 * 8 }, (_, i) => i);
  const out = await (await compile(g))({ x: new ort.Tensor("float32", data, [5, 2, 4]) });
  assert.deepEqual(out.y.dims, [5, 8]);
  // Row r: [r·8 + (0,1, 4,5, 2,3, 6,7)], the middle two axes swapped.
  const row = (r: number) => [0, 1, 4, 5, 2, 3, 6, 7].map((j) => r * 8 + j);
  assert.deepEqual(Array.from(out.y.data as Float32Array), [0, 1, 2, 3, 4].flatMap(row));
});

Deno.test("int64 ids fed as BigInt64Array gather the right embedding rows under Deno", async () => {
  const g = new Graph();
  const table = g.initializer(
    "wte",
    "float32",
    [4, 2],
    Float32Array.from([0, 1, 10, 11, 20, 21, 30, 31]),
  );
  const ids = g.input("ids", "int64", [3]);
  g.output(g.gather(table, ids), "rows");
  const out = await (await compile(g))({
    ids: new ort.Tensor("int64", BigInt64Array.from([3n, 0n, 3n]), [3]),
  });
  assert.deepEqual(Array.from(out.rows.data as Float32Array), [30, 31, 0, 1, 30, 31]);
});

Deno.test("float16 and bfloat16 constants round to nearest even", async () => {
  const { bfloat16Bits, typedArray } = await import("../../model/graph/mod.ts");
  const half = (v: number) => (typedArray("float16", [v]) as Uint16Array)[0];
  assert.equal(half(1), 0x3c00);
  assert.equal(half(65504), 0x7bff);
  assert.equal(half(70000), 0x7c00);
  assert.equal(half(1 + 2 ** -11), 0x3c00); // tie goes to even
  assert.equal(half(2 ** -24), 0x0001); // smallest subnormal
  assert.equal(bfloat16Bits(1), 0x3f80);
  assert.equal(bfloat16Bits(-2), 0xc000);
  assert.equal(bfloat16Bits(1 + 2 ** -8), 0x3f80); // halfway, even stays
  assert.equal(bfloat16Bits(1 + 3 * 2 ** -8), 0x3f82); // halfway, odd rounds up
  assert.equal(bfloat16Bits(3.4028234663852886e38), 0x7f80); // overflows to inf
  assert.equal(bfloat16Bits(NaN) & 0x7fc0, 0x7fc0); // NaN stays NaN
});
