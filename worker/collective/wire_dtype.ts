/**
 * Wire formats for all-reduce chunks: fp32 as is, or fp16 / bf16 (half the bytes). Conversion from
 * fp32 rounds to nearest, ties to even; NaN stays NaN; values past the format's range become
 * ±Infinity. Accumulation always happens in fp32. Bytes are little-endian.
 *
 * @example
 * ```ts
 * const bytes = encodeWire(new Float32Array([1, 2.5]), "bf16"); // 4 bytes
 * const sum = new Float32Array([1, 1]);
 * accumulateWire(sum, bytes, "bf16"); // sum is [2, 3.5]
 * ```
 */
import { z } from "zod";

/** The float format of a chunk's payload on the wire. */
export const WireFormat = z.enum(["fp32", "fp16", "bf16"]);
export type WireFormat = z.infer<typeof WireFormat>;

/** Bytes one element takes on the wire. */
export const WIRE_BYTES: Record<WireFormat, number> = { fp32: 4, fp16: 2, bf16: 2 };

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new Error("Wire formats assume a little-endian host");
}

/**
 * Encodes `src` as bytes of `format`. The result is a view of `src` (fp32), or the 16-bit values
 * at the start of `into` when given (it must hold 2 bytes a value), else of a buffer the next
 * encode reuses (a fresh one per chunk paid page faults).
 */
export function encodeWire(src: Float32Array, format: WireFormat, into?: ArrayBuffer): Uint8Array {
  switch (format) {
    case "fp32":
      return new Uint8Array(src.buffer, src.byteOffset, src.byteLength);
    case "fp16": {
      // Float16Array's conversion is IEEE roundTiesToEven.
      const out = new Float16Array(into ?? encodeScratch(src.length * 2), 0, src.length);
      out.set(src);
      return new Uint8Array(out.buffer, 0, out.byteLength);
    }
    case "bf16": {
      const out = new Uint16Array(into ?? encodeScratch(src.length * 2), 0, src.length);
      f32ToBf16Into(src, out);
      return new Uint8Array(out.buffer, 0, out.byteLength);
    }
  }
}

let encoded = new ArrayBuffer(0);

function encodeScratch(bytes: number): ArrayBuffer {
  if (encoded.byteLength < bytes) encoded = new ArrayBuffer(bytes);
  return encoded;
}

/** `dst[i] += value i of bytes`; `bytes` holds exactly `dst.length` values of `format`. */
export function accumulateWire(dst: Float32Array, bytes: Uint8Array, format: WireFormat): void {
  const src = decodeView(bytes, format, dst.length);
  for (let i = 0; i < dst.length; i++) dst[i] += src[i];
}

/** `dst[i] = value i of bytes`; `bytes` holds exactly `dst.length` values of `format`. */
export function copyWire(dst: Float32Array, bytes: Uint8Array, format: WireFormat): void {
  dst.set(decodeView(bytes, format, dst.length));
}

/**
 * Rounds `buf` in place to the values `format` can carry, so a rank that keeps its own copy holds
 * exactly what its peers decode.
 */
export function roundToWire(buf: Float32Array, format: WireFormat): void {
  if (format === "fp32") return;
  copyWire(buf, encodeWire(buf, format), format); // the encoding is a separate buffer
}

/** fp32 → bf16 bit patterns, round to nearest even. */
export function f32ToBf16(src: Float32Array): Uint16Array {
  const out = new Uint16Array(src.length);
  f32ToBf16Into(src, out);
  return out;
}

function f32ToBf16Into(src: Float32Array, out: Uint16Array): void {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  for (let i = 0; i < bits.length; i++) {
    const x = bits[i];
    if ((x & 0x7fffffff) > 0x7f800000) out[i] = (x >>> 16) | 0x40; // quiet NaN, sign kept
    else out[i] = (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;
  }
}

/** bf16 bit patterns → fp32 (exact). */
export function bf16ToF32(src: Uint16Array): Float32Array {
  const bits = new Uint32Array(src.length);
  for (let i = 0; i < src.length; i++) bits[i] = src[i] << 16;
  return new Float32Array(bits.buffer);
}

/**
 * `count` values of `format` in `bytes` as floats: a view (copied first when unaligned), or for
 * bf16 a reused scratch array that the next decode overwrites.
 */
export function decodeView(
  bytes: Uint8Array,
  format: WireFormat,
  count: number,
): Float32Array | Float16Array {
  const size = WIRE_BYTES[format];
  if (bytes.length !== count * size) {
    throw new RangeError(`Wire payload of ${bytes.length} bytes does not hold ${count} ${format}`);
  }
  // Typed-array views need aligned offsets; a decoded protobuf field sits wherever it sits.
  const aligned = bytes.byteOffset % size === 0 ? bytes : new Uint8Array(bytes);
  switch (format) {
    case "fp32":
      return new Float32Array(aligned.buffer, aligned.byteOffset, count);
    case "fp16":
      return new Float16Array(aligned.buffer, aligned.byteOffset, count);
    case "bf16":
      return bf16IntoScratch(new Uint16Array(aligned.buffer, aligned.byteOffset, count));
  }
}

/** A reused decode buffer: callers consume the result before the next decode. */
let scratch = new Float32Array(0);

function bf16IntoScratch(src: Uint16Array): Float32Array {
  if (scratch.length < src.length) scratch = new Float32Array(src.length);
  const bits = new Uint32Array(scratch.buffer, 0, src.length);
  for (let i = 0; i < src.length; i++) bits[i] = src[i] << 16;
  return scratch.subarray(0, src.length);
}
