/**
 * End to end: a two-layer MLP whose gradients come from the compiler, trained with plain SGD in
 * TypeScript, fits a smooth 2-D regression problem.
 */
import assert from "node:assert/strict";
import { gradients, Graph } from "../../model/graph/mod.ts";
import { ort } from "../../model/runtime.ts";
import { compile, seededRandom } from "./_helpers.ts";

Deno.test("SGD on compiled gradients fits a two-layer MLP: the loss falls by 10x or more", async () => {
  const n = 256, hidden = 32;
  const r = seededRandom(7);
  const xs = Float32Array.from({ length: n * 2 }, () => r() * 4 - 2);
  const ys = Float32Array.from(
    { length: n },
    (_, i) => Math.sin(xs[2 * i]) * Math.cos(xs[2 * i + 1]),
  );

  const g = new Graph();
  const x = g.input("x", "float32", [n, 2]);
  const y = g.input("y", "float32", [n, 1]);
  const params = {
    w1: g.input("w1", "float32", [2, hidden]),
    b1: g.input("b1", "float32", [hidden]),
    w2: g.input("w2", "float32", [hidden, 1]),
    b2: g.input("b2", "float32", [1]),
  };
  const h = g.tanh(g.add(g.matMul(x, params.w1), params.b1));
  const err = g.sub(g.add(g.matMul(h, params.w2), params.b2), y);
  const loss = g.reduceMean(g.mul(err, err), [0, 1], false);
  g.output(loss, "loss");
  const names = Object.keys(params) as (keyof typeof params)[];
  gradients(g, loss, names.map((k) => params[k])).forEach((gv, i) =>
    g.output(gv, `grad_${names[i]}`)
  );
  const step = await compile(g);

  const weights: Record<string, Float32Array> = {
    w1: Float32Array.from({ length: 2 * hidden }, () => (r() * 2 - 1)),
    b1: new Float32Array(hidden),
    w2: Float32Array.from({ length: hidden }, () => (r() * 2 - 1) * 0.3),
    b2: new Float32Array(1),
  };
  const feeds = () => ({
    x: new ort.Tensor("float32", xs, [n, 2]),
    y: new ort.Tensor("float32", ys, [n, 1]),
    ...Object.fromEntries(
      names.map((k) => [k, new ort.Tensor("float32", weights[k], params[k].shape as number[])]),
    ),
  });

  const losses: number[] = [];
  for (let it = 0; it < 1500; it++) {
    const out = await step(feeds());
    losses.push(Number(out.loss.data[0]));
    for (const k of names) {
      const grad = out[`grad_${k}`].data as Float32Array;
      for (let i = 0; i < grad.length; i++) weights[k][i] -= 0.2 * grad[i];
    }
  }
  const first = losses[0], last = losses[losses.length - 1];
  console.log(`MLP loss ${first.toFixed(4)} -> ${last.toFixed(5)} (${(first / last).toFixed(1)}x)`);
  assert.ok(first / last >= 10, `loss fell only from ${first} to ${last}`);
});
