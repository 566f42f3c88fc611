import assert from "node:assert/strict";
import { Rng } from "../../model/optim/mod.ts";

Deno.test("xoshiro128** from state [1, 2, 3, 4] gives the reference outputs", () => {
  // From the reference C code (prng.di.unimi.it/xoshiro128starstar.c), run independently.
  const rng = Rng.fromWords([1, 2, 3, 4]);
  const got = Array.from({ length: 6 }, () => rng.nextU32());
  assert.deepEqual(got, [11520, 0, 5927040, 70819200, 2031721883, 1637235492]);
});

Deno.test("a restored state continues the exact stream, including a cached normal", () => {
  const rng = new Rng(42);
  rng.normal(); // leaves the second Box–Muller value cached
  const saved = JSON.parse(JSON.stringify(rng.exportState()));
  assert.notEqual(saved.spare, null);
  const a = [rng.normal(), rng.next(), rng.int(10), rng.nextU32(), rng.normal()];
  const again = Rng.fromState(saved);
  const b = [again.normal(), again.next(), again.int(10), again.nextU32(), again.normal()];
  assert.deepEqual(b, a);
  assert.throws(() => Rng.fromState({ s: [0, 0, 0, 0], spare: null }), /Not a valid state/);
});

Deno.test("seeds are reproducible and distinct", () => {
  const draw = (seed: number) =>
    Array.from({ length: 4 }, ((r) => () => r.nextU32())(new Rng(seed)));
  assert.deepEqual(draw(7), draw(7));
  assert.notDeepEqual(draw(7), draw(8));
  assert.notDeepEqual(draw(0), [0, 0, 0, 0]);
});

Deno.test("normal samples have the asked mean and standard deviation", () => {
  const n = 200_000;
  const x = new Rng(1).fillNormal(new Float64Array(n), 0, 0.02);
  const mean = x.reduce((a, b) => a + b, 0) / n;
  const std = Math.sqrt(x.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
  const within1 = x.filter((v) => Math.abs(v) < 0.02).length / n;
  console.log(
    `N(0, 0.02): mean ${mean.toExponential(2)}, std ${std.toFixed(5)}, P(|x|<σ) ${within1}`,
  );
  assert.ok(Math.abs(mean) < 3 * 0.02 / Math.sqrt(n) * 2);
  assert.ok(Math.abs(std - 0.02) < 2e-4);
  assert.ok(Math.abs(within1 - 0.6827) < 0.005);
});

Deno.test("int is uniform and in range; shuffle is a seeded permutation", () => {
  const rng = new Rng(3);
  const counts = new Array(6).fill(0);
  for (let i = 0; i < 60_000; i++) counts[rng.int(6)]++;
  for (const c of counts) assert.ok(Math.abs(c - 10_000) < 500, String(counts));
  const a = new Rng(9).shuffle(Array.from({ length: 50 }, (_, i) => i));
  const b = new Rng(9).shuffle(Array.from({ length: 50 }, (_, i) => i));
  assert.deepEqual(a, b);
  assert.deepEqual([...a].sort((x, y) => x - y), Array.from({ length: 50 }, (_, i) => i));
  assert.notDeepEqual(a, Array.from({ length: 50 }, (_, i) => i));
  const typed = new Rng(9).shuffle(Uint32Array.from({ length: 50 }, (_, i) => i));
  assert.deepEqual([...typed], a);
  assert.throws(() => rng.int(0), RangeError);
});
