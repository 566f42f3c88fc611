import assert from "node:assert/strict";
import {
  accumulateWire,
  bf16ToF32,
  copyWire,
  encodeWire,
  f32ToBf16,
  roundToWire,
  SegmentLayout,
} from "../../../worker/collective/mod.ts";

/** bf16 reference from the definition: the nearest value with 8 significant bits, ties to even. */
function bf16Reference(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  const e = Math.floor(Math.log2(Math.abs(x)));
  const ulp = 2 ** (e - 7);
  const q = x / ulp;
  let r = Math.round(q);
  if (Math.abs(q - Math.trunc(q)) === 0.5) r = 2 * Math.round(q / 2); // tie: even
  const v = r * ulp;
  return Math.abs(v) > 3.3895313892515355e38 ? Math.sign(v) * Infinity : v;
}

Deno.test("bf16 conversion rounds to nearest, ties to even, like the definition", () => {
  const cases = [
    1,
    1 + 2 ** -8,
    1 + 3 * 2 ** -8,
    1 + 2 ** -7,
    -(1 + 2 ** -8 + 2 ** -20),
    3.14159,
    1e-30,
    65504,
  ];
  const src = new Float32Array([...cases, 3.4e38, -Infinity, NaN]);
  const got = bf16ToF32(f32ToBf16(src));
  assert.equal(got[0], 1);
  assert.equal(got[1], 1, "a tie rounds down to the even neighbour");
  assert.equal(got[2], 1 + 2 ** -6, "a tie rounds up to the even neighbour");
  for (let i = 0; i < cases.length; i++) {
    assert.equal(got[i], bf16Reference(Math.fround(cases[i])), `case ${cases[i]}`);
  }
  assert.equal(got[cases.length], Infinity, "past the largest bf16 becomes infinity");
  assert.equal(got[cases.length + 1], -Infinity);
  assert.ok(Number.isNaN(got[cases.length + 2]));
  // Random values: the reference and the bit trick agree everywhere.
  let seed = 1;
  const rnd = new Float32Array(10_000).map(() => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return (seed / 2 ** 31 - 0.5) * 2 ** ((seed % 60) - 30);
  });
  const back = bf16ToF32(f32ToBf16(rnd));
  for (let i = 0; i < rnd.length; i++) {
    assert.equal(back[i], bf16Reference(rnd[i]), `value ${rnd[i]}`);
  }
});

Deno.test("fp16 wire rounds to nearest even and saturates to infinity", () => {
  const src = new Float32Array([
    1,
    1 + 2 ** -11,
    1 + 3 * 2 ** -11,
    65504,
    65520,
    2 ** -24,
    2 ** -26,
  ]);
  const dst = new Float32Array(src.length);
  copyWire(dst, encodeWire(src, "fp16"), "fp16");
  assert.deepEqual(Array.from(dst), [1, 1, 1 + 2 ** -9, 65504, Infinity, 2 ** -24, 0]);
});

Deno.test("accumulateWire adds in fp32 for every format, from unaligned bytes too", () => {
  const values = new Float32Array([1.5, -2, 3.25, 1024]);
  for (const wire of ["fp32", "fp16", "bf16"] as const) {
    const bytes = encodeWire(values, wire);
    const unaligned = new Uint8Array(bytes.length + 1).subarray(1);
    unaligned.set(bytes);
    const acc = new Float32Array([1, 1, 1, 1]);
    accumulateWire(acc, unaligned, wire);
    assert.deepEqual(Array.from(acc), [2.5, -1, 4.25, 1025], wire);
  }
});

Deno.test("roundToWire makes a value equal to what a peer decodes", () => {
  const v = new Float32Array([Math.PI, -Math.E, 1 / 3]);
  for (const wire of ["fp16", "bf16"] as const) {
    const mine = v.slice();
    roundToWire(mine, wire);
    const theirs = new Float32Array(3);
    copyWire(theirs, encodeWire(v, wire), wire);
    assert.deepEqual(Array.from(mine), Array.from(theirs), wire);
  }
});

Deno.test("SegmentLayout covers every element exactly once, uneven sizes included", () => {
  for (const [length, n, chunk] of [[0, 3, 4], [2, 5, 1], [1001, 4, 64], [10, 3, 3], [7, 7, 100]]) {
    const layout = new SegmentLayout(length, n, chunk);
    const seen = new Uint8Array(length);
    for (let s = 0; s < n; s++) {
      for (let c = 0; c < layout.chunkCount(s); c++) {
        const [from, to] = layout.chunk(s, c);
        assert.ok(to > from && to - from <= chunk);
        for (let i = from; i < to; i++) seen[i]++;
      }
      const [a, b] = layout.segment(s);
      assert.ok(Math.abs(b - a - length / n) < 1, "segments differ by at most one element");
    }
    assert.ok(seen.every((x) => x === 1), `length ${length}, n ${n}`);
  }
});
