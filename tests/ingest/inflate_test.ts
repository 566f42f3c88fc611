/**
 * The PDF reader's inflate against zlib itself (`node:zlib`): streams deflated every way zlib can
 * (stored, fixed and dynamic blocks; every strategy, level and window size), streams cut short,
 * and malformed ones.
 */
import assert from "node:assert/strict";
import { constants, deflateSync, inflateSync } from "node:zlib";
import { inflate } from "../../ingest/pdf_text/inflate.ts";
import { seededRandom } from "../../model/optim/mod.ts";

/** Inputs of every shape: empty, noise, a few letters, a period, and text that repeats itself. */
function samples(): Uint8Array[] {
  const rng = seededRandom(7);
  const out = [new Uint8Array(0), new Uint8Array(1), new Uint8Array(70_000)];
  for (let k = 0; k < 60; k++) {
    const a = new Uint8Array(Math.floor(rng() ** 2 * 150_000));
    for (let i = 0; i < a.length; i++) {
      a[i] = k % 4 === 0
        ? rng() * 256
        : k % 4 === 1
        ? "abcde fghij\n".charCodeAt(rng() * 12)
        : k % 4 === 2
        ? i % 97
        : rng() < 0.01 || i === 0
        ? rng() * 256
        : a[Math.max(0, i - 1 - Math.floor(rng() * 300))];
    }
    out.push(a);
  }
  return out;
}

const STRATEGIES = [
  constants.Z_DEFAULT_STRATEGY,
  constants.Z_FILTERED,
  constants.Z_HUFFMAN_ONLY,
  constants.Z_RLE,
  constants.Z_FIXED,
];

Deno.test("inflate gives back what zlib deflated, whatever the level, strategy and window", () => {
  let n = 0;
  for (const input of samples()) {
    for (const level of [0, 1, 6, 9]) {
      const options = {
        level,
        strategy: STRATEGIES[n % STRATEGIES.length],
        memLevel: 1 + (n % 9),
        windowBits: 9 + (n % 7),
      };
      n++;
      const got = inflate(new Uint8Array(deflateSync(input, options)), 1 << 24);
      assert.deepEqual(got, input, JSON.stringify({ length: input.length, ...options }));
    }
  }
});

Deno.test("a stream cut short gives what zlib gives, and a bad checksum is passed over", () => {
  const rng = seededRandom(11);
  for (const input of samples().filter((s) => s.length > 100)) {
    const z = new Uint8Array(deflateSync(input, { level: 6 }));
    for (let k = 0; k < 4; k++) {
      const cut = z.subarray(0, 2 + Math.floor(rng() * (z.length - 2)));
      const expected = inflateSync(cut, { finishFlush: constants.Z_SYNC_FLUSH });
      assert.deepEqual(inflate(cut, 1 << 24), new Uint8Array(expected), `cut at ${cut.length}`);
    }
    const badSum = z.slice();
    badSum[badSum.length - 1] ^= 0xff;
    assert.deepEqual(inflate(badSum, 1 << 24), input);
  }
});

Deno.test("malformed streams and streams that inflate too far throw, naming what is wrong", () => {
  const z = new Uint8Array(deflateSync(new TextEncoder().encode("hello hello hello")));
  assert.throws(() => inflate(z.subarray(2), 1 << 20), /zlib header/);
  const badType = z.slice();
  badType[2] |= 0b110; // block type 3
  assert.throws(() => inflate(badType, 1 << 20), /block type/);
  // A fixed block whose first code is a match: there is nothing yet for it to copy.
  assert.throws(() => inflate(new Uint8Array([0x78, 0x9c, 0x03, 0x02, 0x00]), 1 << 20), /too far/);
  assert.throws(
    () => inflate(new Uint8Array(deflateSync(new Uint8Array(5000))), 1000),
    /inflates past 1000 bytes/,
  );
});
