import assert from "node:assert/strict";
import {
  decodeSafetensors,
  dtypeToFloat32,
  encodeSafetensors,
  float32ToDtype,
  readSafetensors,
  type TensorToWrite,
  writeSafetensors,
} from "../../model/checkpoint/mod.ts";
import { InputError } from "../../model/errors.ts";

function sample(): Map<string, TensorToWrite> {
  return new Map<string, TensorToWrite>([
    ["a.weight", {
      dtype: "F32",
      shape: [2, 3],
      data: new Float32Array([1, -2, 3.5, 0, -0, 1e-40]),
    }],
    ["ids", { dtype: "I64", shape: [3], data: new BigInt64Array([1n, -1n, 1n << 40n]) }],
    ["mask", { dtype: "U8", shape: [4], data: new Uint8Array([0, 1, 254, 255]) }],
    ["half", { dtype: "F16", shape: [2], data: new Float16Array([0.5, -65504]) }],
    ["scalar", { dtype: "I32", shape: [], data: new Int32Array([-7]) }],
    ["empty", { dtype: "F32", shape: [0, 4], data: new Float32Array(0) }],
  ]);
}

/** Builds a file from a header object and a data section, bypassing our encoder. */
function rawFile(header: Record<string, unknown>, data: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

Deno.test("encoded file parses by hand: u64 LE header length, space-padded JSON, offsets into data", () => {
  const bytes = encodeSafetensors(sample(), { format: "pt" });
  const view = new DataView(bytes.buffer);
  const n = Number(view.getBigUint64(0, true));
  assert.equal(n % 8, 0, "header padded to a multiple of 8");
  const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
  assert.match(text, /^\{.*\} *$/s);
  const header = JSON.parse(text);
  assert.deepEqual(header.__metadata__, { format: "pt" });
  const base = 8 + n;
  const a = header["a.weight"];
  assert.equal(a.dtype, "F32");
  assert.deepEqual(a.shape, [2, 3]);
  const floats: number[] = [];
  for (let i = a.data_offsets[0]; i < a.data_offsets[1]; i += 4) {
    floats.push(view.getFloat32(base + i, true));
  }
  assert.deepEqual(floats, [1, -2, 3.5, 0, -0, Math.fround(1e-40)]);
  const ids = header.ids;
  assert.equal(view.getBigInt64(base + ids.data_offsets[0] + 16, true), 1n << 40n);
  assert.deepEqual(header.scalar.shape, []);
  assert.equal(view.getInt32(base + header.scalar.data_offsets[0], true), -7);
  assert.equal(header.empty.data_offsets[0], header.empty.data_offsets[1]);
  // Every tensor starts aligned to its element size; the data section is fully used.
  let end = 0;
  for (const [name, e] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const { dtype, data_offsets: [b, f] } = e as { dtype: string; data_offsets: number[] };
    const size = { F32: 4, I64: 8, U8: 1, F16: 2, I32: 4 }[dtype]!;
    assert.equal(b % size, 0, `${name} aligned`);
    end = Math.max(end, f);
  }
  assert.equal(base + end, bytes.length);
});

Deno.test("decode returns what encode was given, byte for byte", () => {
  const input = sample();
  const file = decodeSafetensors(encodeSafetensors(input, { a: "b" }), "x.safetensors");
  assert.deepEqual(file.metadata, { a: "b" });
  assert.deepEqual([...file.tensors.keys()].sort(), [...input.keys()].sort());
  for (const [name, t] of input) {
    const got = file.tensors.get(name)!;
    assert.equal(got.dtype, t.dtype);
    assert.deepEqual(got.shape, t.shape);
    assert.deepEqual(got.data, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
});

Deno.test("numpy reads our file independently (skipped without python3 + numpy)", async () => {
  const probe = await new Deno.Command("python3", { args: ["-c", "import numpy"] }).output()
    .catch(() => undefined);
  if (!probe?.success) return;
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/t.safetensors`;
    await writeSafetensors(path, sample(), { format: "pt" });
    const script = `
import json, struct, sys, numpy as np
raw = open(sys.argv[1], "rb").read()
n, = struct.unpack("<Q", raw[:8])
h = json.loads(raw[8:8 + n])
types = {"F32": "<f4", "I64": "<i8", "U8": "u1", "F16": "<f2", "I32": "<i4"}
out = {}
for k, e in h.items():
    if k == "__metadata__": continue
    b, f = e["data_offsets"]
    a = np.frombuffer(raw[8 + n + b: 8 + n + f], dtype=types[e["dtype"]]).reshape(e["shape"])
    out[k] = [float(x) for x in a.ravel()]
print(json.dumps(out))`;
    const run = await new Deno.Command("python3", { args: ["-c", script, path] }).output();
    assert.ok(run.success, new TextDecoder().decode(run.stderr));
    const got = JSON.parse(new TextDecoder().decode(run.stdout));
    assert.deepEqual(got["a.weight"], [1, -2, 3.5, 0, -0, Math.fround(1e-40)]);
    assert.deepEqual(got.ids, [1, -1, 2 ** 40]);
    assert.deepEqual(got.mask, [0, 1, 254, 255]);
    assert.deepEqual(got.half, [0.5, -65504]);
    assert.deepEqual(got.scalar, [-7]);
    assert.deepEqual(got.empty, []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

function refuses(bytes: Uint8Array, pattern: RegExp) {
  assert.throws(() => decodeSafetensors(bytes, "bad.safetensors"), (err: unknown) => {
    assert.ok(err instanceof InputError, String(err));
    assert.match(err.message, /^bad\.safetensors: /);
    assert.match(err.message, pattern);
    return true;
  });
}

Deno.test("malformed headers are refused with the file and tensor named", () => {
  const eight = new Uint8Array(8);
  const f32 = (offsets: number[], shape = [1]) => ({ dtype: "F32", shape, data_offsets: offsets });
  refuses(rawFile({ a: f32([0, 4]), b: f32([2, 6]) }, eight), /Tensor "b".*contiguous/);
  refuses(rawFile({ a: f32([0, 4]), b: f32([8, 12]) }, new Uint8Array(12)), /"b".*begin at 8/);
  refuses(rawFile({ a: f32([0, 4]), b: f32([4, 12], [2]) }, eight), /"b".*run past.*truncated/);
  refuses(rawFile({ a: f32([0, 8]) }, eight), /"a".*hold 8 bytes.*need 4/);
  refuses(rawFile({ a: f32([4, 0]) }, eight), /"a".*end before/);
  refuses(rawFile({ a: f32([0, 4]) }, eight), /cover 4 bytes but the file holds 8/);
  refuses(rawFile({ a: { dtype: "Q4", shape: [1], data_offsets: [0, 1] } }, eight), /"a".*"Q4"/);
  refuses(rawFile({ a: f32([0, 4], [-1]) }, eight), /"a".*Shape/);
  refuses(rawFile({ __metadata__: { step: 3 } }, new Uint8Array(0)), /"step" is not a string/);
  // Duplicate names: JSON.parse would silently keep the last one.
  const json = new TextEncoder().encode(
    `{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},` +
      `"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`,
  );
  const dup = new Uint8Array(8 + json.length + 4);
  new DataView(dup.buffer).setBigUint64(0, BigInt(json.length), true);
  dup.set(json, 8);
  refuses(dup, /"a" appears twice/);
  refuses(new Uint8Array(5), /too short/);
  const tooLong = new Uint8Array(16);
  new DataView(tooLong.buffer).setBigUint64(0, 100n, true);
  refuses(tooLong, /runs past the end/);
  const notJson = rawFile({}, new Uint8Array(0));
  notJson[9] = 0x78;
  refuses(notJson, /not valid JSON/);
});

Deno.test("a truncated file on disk is refused with its path", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/m.safetensors`;
    const bytes = await writeSafetensors(path, sample());
    await Deno.writeFile(path, bytes.subarray(0, bytes.length - 3));
    await assert.rejects(() => readSafetensors(path), (err: Error) => {
      assert.ok(err instanceof InputError);
      assert.ok(err.message.startsWith(path), err.message);
      return true;
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("fp16 and bf16 conversions round to nearest even and read back", () => {
  const bf16 = (bits: number) =>
    new Uint16Array(
      float32ToDtype(new Float32Array(new Uint32Array([bits]).buffer), "BF16").buffer,
    )[0];
  assert.equal(bf16(0x3f800000), 0x3f80); // 1.0
  assert.equal(bf16(0x3f808000), 0x3f80); // halfway, even stays
  assert.equal(bf16(0x3f818000), 0x3f82); // halfway, odd rounds up
  assert.equal(bf16(0x3f808001), 0x3f81); // above halfway
  assert.equal(bf16(0x7f7fffff), 0x7f80); // overflows to inf
  const half = float32ToDtype(new Float32Array([0.1, 1, 65520]), "F16");
  assert.deepEqual([...new Uint16Array(half.buffer)], [0x2e66, 0x3c00, 0x7c00]);
  const x = new Float32Array([1.5, -3.25, 1e-3]);
  for (const dtype of ["F64", "F32", "F16", "BF16"] as const) {
    const back = dtypeToFloat32(float32ToDtype(x, dtype), dtype);
    for (let i = 0; i < x.length; i++) {
      assert.ok(Math.abs(back[i] - x[i]) <= Math.abs(x[i]) * 2 ** -8, `${dtype} ${back[i]}`);
    }
  }
  assert.throws(() => dtypeToFloat32(new Uint8Array(4), "I32", "m: t"), /m: t.*"I32"/);
});
