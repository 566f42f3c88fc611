/**
 * Conversions between fp32 buffers and the element types a safetensors file may hold. fp16 uses the
 * built-in `Float16Array` (IEEE round to nearest even); bf16 keeps the top 16 bits of an fp32 with
 * round to nearest even, NaN kept quiet.
 *
 * @example
 * ```ts
 * const half = float32ToDtype(new Float32Array([1, 0.1]), "F16"); // Uint8Array of 4 bytes
 * dtypeToFloat32(half, "F16"); // Float32Array [1, 0.0999755859375]
 * ```
 */
import { InputError } from "../errors.ts";
import { bfloat16Bits } from "../graph/mod.ts";
import type { Dtype } from "./safetensors.ts";

/** Floating element types that convert to and from fp32. */
export type FloatDtype = "F64" | "F32" | "F16" | "BF16";

/** Decodes little-endian tensor bytes of a float dtype into a fresh Float32Array. */
export function dtypeToFloat32(bytes: Uint8Array, dtype: Dtype, source = "<tensor>"): Float32Array {
  const copy = bytes.slice(); // aligned, owned by the caller
  switch (dtype) {
    case "F32":
      return new Float32Array(copy.buffer, 0, copy.length / 4);
    case "F64":
      return Float32Array.from(new Float64Array(copy.buffer, 0, copy.length / 8));
    case "F16":
      return Float32Array.from(new Float16Array(copy.buffer, 0, copy.length / 2));
    case "BF16": {
      const src = new Uint16Array(copy.buffer, 0, copy.length / 2);
      const out = new Float32Array(src.length);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < src.length; i++) bits[i] = src[i] << 16;
      return out;
    }
    default:
      throw new InputError(source, `Cannot read dtype "${dtype}" as float32`);
  }
}

/** Encodes an fp32 buffer as little-endian bytes of a float dtype. */
export function float32ToDtype(data: Float32Array, dtype: FloatDtype): Uint8Array {
  switch (dtype) {
    case "F32":
      return new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
    case "F64":
      return new Uint8Array(Float64Array.from(data).buffer);
    case "F16":
      return new Uint8Array(Float16Array.from(data).buffer);
    case "BF16": {
      return new Uint8Array(Uint16Array.from(data, bfloat16Bits).buffer);
    }
  }
}
