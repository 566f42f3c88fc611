/**
 * Model weights read from a safetensors file and held to the config before any of them is
 * converted: every tensor's name, dtype and shape must be the GPT-2 layout of the config, so a
 * vocabulary or context larger than the tensors, a wrong width or a transposed matrix is refused by
 * name here instead of failing later in a Reshape, a MatMul or an allocation. Each tensor is then
 * converted to fp32 and refused if it holds a NaN or an infinity.
 *
 * @example
 * ```ts
 * const config = fromHfConfig(json, "run/config.json");
 * const tensors = decodeModelWeights(bytes, config, "run/model.safetensors");
 * ```
 */
import { InputError } from "../errors.ts";
import type { GptConfig } from "../gpt/config.ts";
import { dtypeToFloat32 } from "./dtype_convert.ts";
import { checkGpt2Tensors } from "./gpt2_layout.ts";
import { decodeSafetensors, type Dtype, type TensorRead } from "./safetensors.ts";
import type { CheckpointTensor } from "./save_checkpoint.ts";

/** Element types a weight may be stored in; all are read as fp32. */
const FLOAT_DTYPES: ReadonlySet<Dtype> = new Set(["F32", "F16", "BF16", "F64"]);

/**
 * Decodes `bytes` (a model.safetensors) and returns its weights as fp32, after checking every
 * tensor against `config` (see the module doc). `source` names the file in errors.
 */
export function decodeModelWeights(
  bytes: Uint8Array,
  config: GptConfig,
  source: string,
): Map<string, CheckpointTensor> {
  return toFloat32Weights(decodeSafetensors(bytes, source).tensors, config, source);
}

/** Checks tensors as read against `config`, then converts them; see {@linkcode decodeModelWeights}. */
export function toFloat32Weights(
  tensors: ReadonlyMap<string, TensorRead>,
  config: GptConfig,
  source: string,
): Map<string, CheckpointTensor> {
  checkWeightHeaders(config, tensors, source);
  const out = new Map<string, CheckpointTensor>();
  for (const [name, t] of tensors) {
    const data = dtypeToFloat32(t.data, t.dtype, `${source}: ${name}`);
    const bad = firstNonFinite(data);
    if (bad >= 0) {
      throw new InputError(
        `${source}: ${name}`,
        `Element ${bad} is ${data[bad]}: weights must be finite (was the run diverging?)`,
      );
    }
    out.set(name, { data, shape: t.shape });
  }
  return out;
}

/** Throws an InputError naming the first tensor whose name, dtype or shape `config` does not have. */
export function checkWeightHeaders(
  config: GptConfig,
  tensors: ReadonlyMap<string, { dtype: Dtype; shape: readonly number[] }>,
  source: string,
): void {
  checkGpt2Tensors(config, tensors, source);
  for (const [name, t] of tensors) {
    if (!FLOAT_DTYPES.has(t.dtype)) {
      throw new InputError(`${source}: ${name}`, `Expected a float dtype, got "${t.dtype}"`);
    }
  }
}

/** Index of the first NaN or ±∞, or −1. */
function firstNonFinite(data: Float32Array): number {
  for (let i = 0; i < data.length; i++) {
    // x − x is 0 for every finite x and NaN for NaN and ±∞: one subtraction, no call per element.
    if (data[i] - data[i] !== 0) return i;
  }
  return -1;
}
