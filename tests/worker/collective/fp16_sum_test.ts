/**
 * fp16 sums through onnxruntime's Cast give, bit for bit, what JavaScript gives by adding in fp32
 * and storing through Float16Array (the reduce-scatter's adds before), including the values at the
 * edges of the format.
 */
import assert from "node:assert/strict";
import { addFp16Into } from "../../../worker/collective/fp16_sum.ts";

/** The reference: each pair added as fp32 and converted by Float16Array's own rounding. */
function jsSum(a: Float16Array, b: Float16Array): Uint16Array {
  const sums = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) sums[i] = a[i] + b[i];
  return new Uint16Array(new Float16Array(sums).buffer);
}

/** NaN bit patterns may differ in their payload; every other value must match exactly. */
function assertSameBits(got: Float16Array, want: Uint16Array, what: string): void {
  const bits = new Uint16Array(got.buffer, got.byteOffset, got.length);
  for (let i = 0; i < want.length; i++) {
    if (bits[i] === want[i] || (Number.isNaN(got[i]) && (want[i] & 0x7fff) > 0x7c00)) continue;
    assert.fail(
      `${what}: element ${i} is 0x${bits[i].toString(16)}, want 0x${want[i].toString(16)}`,
    );
  }
}

Deno.test("fp16 sums match JavaScript's bit for bit: every fp16 value against subnormals, ties, overflow and specials", () => {
  const every = new Float16Array(new Uint16Array(65_536).map((_, i) => i).buffer);
  const others = [
    0,
    -0,
    1,
    -1,
    2 ** -24,
    -(2 ** -24),
    2 ** -14,
    2 ** -25,
    0.1,
    1 / 3,
    1024.5,
    2049,
    -2049,
    65504,
    -65504,
    Infinity,
    -Infinity,
    NaN,
  ];
  for (const other of others) {
    const b = new Float16Array(every.length).fill(other);
    const dst = every.slice();
    addFp16Into(dst, b);
    assertSameBits(dst, jsSum(every, b), `every value + ${other}`);
  }
});

Deno.test("fp16 sums write into a view in place, block by block, and leave the rest of its buffer alone", () => {
  // Longer than one run's block (2^17 values), ending inside a block.
  const n = 300_007;
  const buffer = new Float16Array(n + 3).map((_, i) => (i % 97) / 8 - 5);
  const src = new Float16Array(n).map((_, i) => (i % 31) / 16);
  const want = jsSum(buffer.subarray(2, n + 2), src);
  const before = buffer.slice();
  addFp16Into(buffer.subarray(2, n + 2), src);
  assertSameBits(buffer.subarray(2, n + 2), want, "view");
  assert.deepEqual([buffer[0], buffer[1], buffer[n + 2]], [before[0], before[1], before[n + 2]]);
  assert.throws(() => addFp16Into(buffer, src), /Adding 300007 fp16 values into 300010/);
});
