/**
 * A whole training state as one safetensors payload, for the wire rather than the disk: weights,
 * AdamW moments (named as in optimizer.safetensors) and the training state JSON in the metadata.
 * The coordinator turns one into a checkpoint directory, and a joining worker restores from one.
 */
import type { AdamWState } from "../optim/mod.ts";
import { InputError } from "../errors.ts";
import { M_PREFIX, V_PREFIX } from "./_layout.ts";
import { dtypeToFloat32 } from "./dtype_convert.ts";
import { decodeSafetensors, encodeSafetensors, type TensorToWrite } from "./safetensors.ts";
import type { CheckpointContents, CheckpointTensor, TrainingState } from "./save_checkpoint.ts";

/** The parts of a checkpoint that change as training goes. */
export type TrainingStatePart = Pick<CheckpointContents, "tensors" | "optimizer" | "state">;

/** Serialises weights, moments and state. */
export function encodeTrainingState(c: TrainingStatePart): Uint8Array {
  const tensors = new Map<string, TensorToWrite>();
  for (const [name, t] of c.tensors) {
    tensors.set(name, { dtype: "F32", shape: t.shape, data: t.data });
    for (const [prefix, src] of [[M_PREFIX, c.optimizer.m], [V_PREFIX, c.optimizer.v]] as const) {
      const moment = src.get(name);
      if (moment) tensors.set(prefix + name, { dtype: "F32", shape: t.shape, data: moment });
    }
  }
  return encodeSafetensors(tensors, {
    optimizer_step: String(c.optimizer.step),
    state: JSON.stringify(c.state),
  });
}

/** Parses what {@linkcode encodeTrainingState} wrote; `source` names it in errors. */
export function decodeTrainingState(
  bytes: Uint8Array,
  source = "training state",
): TrainingStatePart & { path: string } {
  const file = decodeSafetensors(bytes, source);
  const tensors = new Map<string, CheckpointTensor>();
  const m = new Map<string, Float32Array>(), v = new Map<string, Float32Array>();
  for (const [name, t] of file.tensors) {
    const data = dtypeToFloat32(t.data, t.dtype, `${source}: ${name}`);
    if (name.startsWith(M_PREFIX)) m.set(name.slice(M_PREFIX.length), data);
    else if (name.startsWith(V_PREFIX)) v.set(name.slice(V_PREFIX.length), data);
    else tensors.set(name, { data, shape: t.shape });
  }
  let state: TrainingState;
  try {
    state = JSON.parse(file.metadata.state ?? "");
  } catch {
    throw new InputError(source, `metadata "state" is not JSON`);
  }
  const optimizer: AdamWState = { step: Number(file.metadata.optimizer_step), m, v };
  return { path: source, tensors, optimizer, state };
}
