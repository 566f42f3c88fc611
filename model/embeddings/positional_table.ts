/**
 * The position vectors a checkpoint adds to its token embeddings: the learned table
 * (`transformer.wpe.weight`) or, for `positional: "sinusoidal"`, the fixed sine/cosine table the
 * model recomputes. Rows are positions 0..contextLength−1.
 *
 * @example
 * ```ts
 * const pos = positionalTable(await loadCheckpoint("runs/a"));
 * const sim = cosineMatrix(pos.rows); // sim[i][j]: how alike positions i and j look
 * ```
 */
import type { ModelFiles } from "../checkpoint/mod.ts";
import { InputError } from "../errors.ts";
import { sinusoidalTable } from "../gpt/mod.ts";

/** The checkpoint tensor of learned positions. */
export const POSITION_EMBEDDING = "transformer.wpe.weight";

/** One row per position. */
export interface PositionalTable {
  kind: "learned" | "sinusoidal";
  positions: number;
  width: number;
  rows: Float32Array[];
}

/** The positional table of `ckpt`. */
export function positionalTable(ckpt: ModelFiles): PositionalTable {
  const { contextLength, width, positional } = ckpt.config;
  let flat: Float32Array;
  if (positional === "sinusoidal") {
    flat = sinusoidalTable(contextLength, width);
  } else {
    const wpe = ckpt.tensors.get(POSITION_EMBEDDING);
    if (!wpe) throw new InputError(ckpt.path, `Checkpoint has no "${POSITION_EMBEDDING}" tensor`);
    flat = wpe.data;
  }
  const positions = flat.length / width;
  const rows = Array.from(
    { length: positions },
    (_, p) => flat.subarray(p * width, (p + 1) * width),
  );
  return { kind: positional, positions, width, rows };
}
